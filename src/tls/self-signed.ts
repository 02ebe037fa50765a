import { X509Certificate } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { hostname as osHostname, networkInterfaces, type NetworkInterfaceInfo } from 'node:os'
import { isIP } from 'node:net'
import { join } from 'node:path'
import selfsigned from 'selfsigned'
import { fingerprint256 } from './material'
import { isDockerInterface, machineAddresses } from './names'

/**
 * The embedded default is HTTPS even with nothing configured: on first
 * start a self-signed certificate for this machine's names is written to
 * the data folder, and its SHA-256 fingerprint is printed so a client can
 * pin or check it. It is renewed at start when it nears its end or no
 * longer names this host (its name, an extra name, an address of a
 * non-Docker interface).
 */

export interface SelfSigned {
  certFile: string
  keyFile: string
  fingerprint: string
  created: boolean
  notAfter: string
}

const VALID_DAYS = 365
const RENEW_BEFORE_MS = 30 * 86_400_000

/** os.networkInterfaces() throws where the system refuses to list them (some sandboxes): then only the names. */
function interfacesOrNone (): NodeJS.Dict<NetworkInterfaceInfo[]> {
  try {
    return networkInterfaces()
  } catch {
    return {}
  }
}

export interface CertificateNames {
  /** Every subjectAltName of a new certificate. */
  names: string[]
  /** The names an existing certificate must hold to be kept (see isDockerInterface). */
  required: string[]
}

/**
 * localhost, the loopback addresses, the host name, the operator's extra
 * names and the machine's addresses (os.networkInterfaces()).
 */
export function certificateNames (opts: { extra?: readonly string[], host?: string, interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]> } = {}): CertificateNames {
  const names = ['localhost', '127.0.0.1', '::1']
  const host = opts.host ?? osHostname()
  if (host !== '') names.push(host)
  names.push(...(opts.extra ?? []))
  const required = [...names]
  for (const { address, iface } of machineAddresses(opts.interfaces ?? interfacesOrNone())) {
    names.push(address)
    if (!isDockerInterface(iface)) required.push(address)
  }
  const unique = (list: string[]): string[] => [...new Set(list)]
  return { names: unique(names), required: unique(required) }
}

function covers (cert: X509Certificate, names: readonly string[], now: number): boolean {
  if (Date.parse(cert.validTo) - now < RENEW_BEFORE_MS) return false
  const sans = (cert.subjectAltName ?? '').toLowerCase().split(', ')
  // checkHost matches a host name against the certificate; a wildcard name is looked up as written.
  return names.every(n => isIP(n) !== 0 ? cert.checkIP(n) !== undefined : n.startsWith('*.') ? sans.includes(`dns:${n}`) : cert.checkHost(n) !== undefined)
}

export async function ensureSelfSigned (dataDir: string, opts: { names?: CertificateNames, now?: number } = {}): Promise<SelfSigned> {
  const { names, required } = opts.names ?? certificateNames()
  const now = opts.now ?? Date.now()
  const dir = join(dataDir, 'tls')
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  try {
    const pem = readFileSync(certFile)
    readFileSync(keyFile)
    const cert = new X509Certificate(pem)
    if (covers(cert, required, now)) return { certFile, keyFile, fingerprint: fingerprint256(pem), created: false, notAfter: cert.validTo }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const notBeforeDate = new Date(now - 60_000)
  const generated = await selfsigned.generate([{ name: 'commonName', value: 'docker-gateway' }, { name: 'organizationName', value: 'docker-gateway (self-signed)' }], {
    // RSA 2048 rather than EC: Windows PowerShell 5.1 on older builds handles it everywhere.
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALID_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map(n => isIP(n) !== 0 ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }) }
    ]
  })
  // Write both beside and rename: a reader never sees a key without its certificate.
  writeFileSync(`${keyFile}.new`, generated.private, { mode: 0o600 })
  chmodSync(`${keyFile}.new`, 0o600)
  writeFileSync(`${certFile}.new`, generated.cert, { mode: 0o644 })
  renameSync(`${keyFile}.new`, keyFile)
  renameSync(`${certFile}.new`, certFile)
  return { certFile, keyFile, fingerprint: fingerprint256(generated.cert), created: true, notAfter: new X509Certificate(generated.cert).validTo }
}
