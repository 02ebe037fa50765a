import { isIP } from 'node:net'
import type { NetworkInterfaceInfo } from 'node:os'

/**
 * The names a self-signed certificate is made for, besides localhost and the
 * host name: extra names the operator gives (`tlsNames`, GATEWAY_TLS_NAMES)
 * and the machine's own addresses, so a service that calls the gateway by the
 * machine's address (`https://10.0.0.5:8443`) verifies it.
 */

// RFC 1123 host name labels; a leading `*.` makes it a wildcard name (RFC 6125 §6.4.3).
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/** Why `name` cannot be a subjectAltName, or undefined when it can. */
export function badTlsName (name: string): string | undefined {
  if (name.includes('%')) return 'an address with a zone (%) cannot be in a certificate'
  if (isIP(name) !== 0) return undefined
  if (name.length > 253) return 'a DNS name is at most 253 characters'
  const labels = name.toLowerCase().split('.')
  const first = labels[0] === '*' && labels.length > 2 ? labels.slice(1) : labels
  if (!first.every(l => LABEL.test(l))) return 'neither an IP address nor a DNS name (letters, digits, hyphens and dots; `*.` only as the first label)'
  // `10.0.0.300`, `1.2.3`: meant as an address, but not one.
  if (/^[0-9]+$/.test(labels[labels.length - 1] as string)) return 'not a valid IP address'
  return undefined
}

/** Split and check a comma-separated list; throws Error naming the first bad entry. */
export function parseTlsNames (value: string | undefined): string[] {
  if (value === undefined) return []
  const names: string[] = []
  for (const raw of value.split(',')) {
    const name = raw.trim()
    if (name === '') continue
    const why = badTlsName(name)
    if (why !== undefined) throw new Error(`${JSON.stringify(name)}: ${why}`)
    const normal = isIP(name) !== 0 ? name : name.toLowerCase()
    if (!names.includes(normal)) names.push(normal)
  }
  return names
}

/**
 * Interfaces Docker creates (the default bridge, user networks `br-<id>`,
 * swarm's gateway bridge, container veth ends). Their addresses go into the
 * certificate (containers reach the host at their bridge's gateway address),
 * but they come and go with every `docker network create`, so their changes
 * alone never make a new certificate: that would change the fingerprint
 * clients pinned.
 */
export function isDockerInterface (name: string): boolean {
  return /^(docker\d*|docker_gwbridge|br-.+|veth.+)$/.test(name)
}

export interface MachineAddress {
  address: string
  iface: string
}

/**
 * The machine's addresses that can be subjectAltNames: every interface's,
 * except IPv6 link-local ones (fe80::/10), which are only meaningful with a
 * zone (`fe80::1%eth0`) that a certificate cannot carry, and repeat on every link.
 */
export function machineAddresses (interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): MachineAddress[] {
  const out: MachineAddress[] = []
  for (const [iface, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      if (info.family === 'IPv6' && (info.scopeid !== 0 || /^fe[89ab]/i.test(info.address))) continue
      if (!out.some(a => a.address === info.address)) out.push({ address: info.address, iface })
    }
  }
  return out
}
