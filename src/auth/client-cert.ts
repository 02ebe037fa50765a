import { parseScopes } from './scopes'

/**
 * Mutual TLS principals. A client certificate that the TLS layer verified
 * against GATEWAY_TLS_CA names its holder by its SANs and subject CN; the
 * config file's `clientCertificates` section maps one of those names to a
 * grant:
 *
 *   clientCertificates:
 *     "CN=billing-svc":            { scope: "containers:read containers:write", hosts: [prod-1] }
 *     "URI:spiffe://corp/ci":      { scope: "containers:read", sub: ci }
 *
 * SANs are tried before the CN (RFC 6125 §6.4.4: the CN is a fallback for
 * certificates without SANs), URI before DNS, each in certificate order;
 * the first name that has an entry wins. A subject with several CNs has no
 * CN as far as this is concerned: which one would it be?
 */

export interface ClientCertificateGrant {
  scope: string
  hosts?: string[]
  sub?: string
}

export interface CertificateIdentity {
  /** The matched key, e.g. `CN=billing-svc`. */
  name: string
  principal: string
  scopes: string[]
  allowedHosts?: string[]
}

/** The part of tls.PeerCertificate read here. */
export interface PeerCertificateLike {
  subject?: Record<string, string | string[] | undefined> | null
  subjectaltname?: string
}

/**
 * Node's `subjectaltname` string: `DNS:a, URI:spiffe://x, IP Address:1.2.3.4`.
 * Since CVE-2021-44532 Node quotes a value holding `,` `"` or other specials
 * as a JSON string (`DNS:"a, b"`), so a forged SAN cannot smuggle in a
 * second entry; the quoted form is decoded here, not split on commas.
 */
export function parseSubjectAltName (text: string | undefined): Array<{ type: string, value: string }> {
  const out: Array<{ type: string, value: string }> = []
  if (text === undefined || text === '') return out
  let i = 0
  while (i < text.length) {
    const colon = text.indexOf(':', i)
    if (colon === -1) break
    const type = text.slice(i, colon)
    let value: string
    let next: number
    if (text[colon + 1] === '"') {
      let end = colon + 2
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      try {
        value = JSON.parse(text.slice(colon + 1, end + 1)) as string
      } catch {
        return out
      }
      next = text.indexOf(', ', end + 1)
    } else {
      next = text.indexOf(', ', colon + 1)
      value = text.slice(colon + 1, next === -1 ? undefined : next)
    }
    out.push({ type, value })
    if (next === -1) break
    i = next + 2
  }
  return out
}

/** The certificate's names as config keys, most specific first. */
export function certificateNames (cert: PeerCertificateLike): string[] {
  const sans = parseSubjectAltName(cert.subjectaltname)
  const names = [
    ...sans.filter(s => s.type === 'URI').map(s => `URI:${s.value}`),
    ...sans.filter(s => s.type === 'DNS').map(s => `DNS:${s.value}`)
  ]
  const cn = cert.subject?.CN
  if (typeof cn === 'string' && cn !== '') names.push(`CN=${cn}`)
  return names
}

export function resolveCertificate (cert: PeerCertificateLike, grants: Readonly<Record<string, ClientCertificateGrant>> | undefined): { identity?: CertificateIdentity, names: string[] } {
  const names = certificateNames(cert)
  if (grants === undefined) return { names }
  for (const name of names) {
    if (!Object.hasOwn(grants, name)) continue
    const grant = grants[name] as ClientCertificateGrant
    const identity: CertificateIdentity = { name, principal: grant.sub ?? name, scopes: parseScopes(grant.scope) }
    if (grant.hosts !== undefined) identity.allowedHosts = [...grant.hosts]
    return { identity, names }
  }
  return { names }
}
