import { isIP } from 'node:net'
import { boolAt, isObj, listAt, objAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { formatPath } from './strict-json'
import type { Violation } from './types'

/**
 * Published ports bind host interfaces ahead of the host firewall (Docker's
 * iptables chains), so low ports, squatting and specific host addresses are a
 * host decision. PublishAllPorts publishes every exposed port, including
 * those the image declares.
 */

type Rules = Pick<PolicyRules, 'allowPublishAll' | 'hostPortRange' | 'allowedHostIps'>

/**
 * The canonical text of an IP ('' stays ''), or undefined when it is not one
 * that dockerd would bind as given. Never throws (issue 10 finding 7: a
 * scoped address made the WHATWG URL parser throw, a 500). Go's
 * net.ParseIP, which dockerd uses for HostIp, takes neither a zone
 * (`fe80::1%eth0`), brackets, nor IPv4 octets with leading zeros.
 */
export function canonicalIp (ip: string): string | undefined {
  if (ip === '') return ''
  if (ip.length > 45) return undefined // longer than any IPv6 text form (RFC 4291 §2.2, with an IPv4 tail)
  if (isIP(ip) === 4) return /(^|\.)0[0-9]/.test(ip) ? undefined : ip
  if (isIP(ip) !== 6 || ip.includes('%')) return undefined
  let host: string
  try {
    host = new URL(`http://[${ip}]/`).hostname.slice(1, -1)
  } catch {
    return undefined
  }
  // Go treats an IPv4-mapped address as the IPv4 address.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host)
  if (mapped !== null) {
    const hi = parseInt(mapped[1]!, 16)
    const lo = parseInt(mapped[2]!, 16)
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  return host
}

export function checkPorts (hc: Obj | undefined, rules: Rules): Violation[] {
  const out: Violation[] = []
  if (boolAt(hc, 'PublishAllPorts') === true && !rules.allowPublishAll) {
    out.push({ rule: 'publish-all-ports', field: 'HostConfig.PublishAllPorts', message: 'HostConfig.PublishAllPorts=true is not allowed (it publishes every exposed port on all host interfaces)' })
  }
  const allowedIps = new Set(rules.allowedHostIps.map(canonicalIp).filter(ip => ip !== undefined))
  const { min, max } = rules.hostPortRange
  const bindings = objAt(hc, 'PortBindings') ?? {}
  for (const port of Object.keys(bindings)) {
    ;(listAt(bindings, port) ?? []).forEach((b, i) => {
      if (!isObj(b)) return
      const base = ['HostConfig', 'PortBindings', port, i]
      const hostIp = strAt(b, 'HostIp') ?? ''
      const ip = canonicalIp(hostIp)
      if (ip === undefined || !allowedIps.has(ip)) {
        const field = formatPath([...base, 'HostIp'])
        const why = ip !== undefined ? '' : hostIp.includes('%') ? ' (a zone index such as %eth0 is not accepted)' : ' (not an IP address as dockerd parses one)'
        out.push({ rule: 'ports', field, message: `${field}=${JSON.stringify(shorten(hostIp))} is not an allowed host address${why} (allowed: ${rules.allowedHostIps.map(v => JSON.stringify(v)).join(', ')})` })
      }
      const hostPort = strAt(b, 'HostPort') ?? ''
      const problem = hostPortProblem(hostPort, min, max)
      if (problem !== undefined) {
        const field = formatPath([...base, 'HostPort'])
        out.push({ rule: 'port-binding', field, message: `${field}=${JSON.stringify(hostPort)} ${problem}` })
      }
    })
  }
  return out
}

/** An echoed value is cut short: the answer and the audit line need not carry a megabyte of it. */
function shorten (v: string): string {
  return v.length > 64 ? `${v.slice(0, 61)}...` : v
}

/** '' and '0' ask the daemon for a random port; otherwise a port or 'start-end' range within [min, max]. */
function hostPortProblem (hostPort: string, min: number, max: number): string | undefined {
  if (hostPort === '') return undefined
  const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(hostPort)
  if (m === null) return 'is not a port or port range'
  const start = Number(m[1])
  const end = m[2] === undefined ? start : Number(m[2])
  if (m[2] === undefined && start === 0) return undefined
  if (start > end || end > 65535) return 'is not a valid port range'
  if (start < min || end > max) return `is outside the allowed host port range ${min}-${max}`
  return undefined
}
