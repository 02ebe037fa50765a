import { isIPv4, isIPv6 } from 'node:net'

/**
 * The key a client address is counted under for limits.maxConnectionsPerAddress.
 *
 * IPv4: the address itself. IPv6: its /64 prefix, because a /64 is the
 * smallest block a site is assigned (RFC 6177 §3, RFC 7421: SLAAC needs a /64),
 * so a single host can take any of 2^64 addresses in it; counting whole IPv6
 * addresses would give one client an unlimited allowance. An IPv4-mapped IPv6
 * address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2, which a dual-stack socket
 * reports for IPv4 clients) is the IPv4 address it maps, so a client counts
 * the same whichever way the listener is bound. A zone (`fe80::1%eth0`) is
 * dropped. Anything else (a Unix socket has no address) is returned as is.
 */
export function addressKey (address: string): string {
  if (isIPv4(address)) return address
  const zone = address.indexOf('%')
  const ip = zone >= 0 ? address.slice(0, zone) : address
  if (!isIPv6(ip)) return address
  const groups = expandIPv6(ip)
  // ::ffff:0:0/96 is IPv4-mapped (RFC 4291 §2.5.5.2).
  if (groups.slice(0, 5).every(g => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6] ?? 0
    const lo = groups[7] ?? 0
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`
  }
  return `${groups.slice(0, 4).map(g => g.toString(16)).join(':')}::/64`
}

/** The eight 16-bit groups of a valid IPv6 address (with or without an embedded IPv4 tail). */
function expandIPv6 (ip: string): number[] {
  let text = ip.toLowerCase()
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parse = (s: string): number[] => s === '' ? [] : s.split(':').map(g => parseInt(g, 16))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0)
  return [...left, ...zeros, ...right]
}
