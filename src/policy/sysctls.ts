import { objAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { matchesAny } from './glob'
import { formatPath } from './strict-json'
import type { Violation } from './types'

/**
 * Sysctls are limited to namespaced ones by runc, not by the daemon, and even
 * namespaced ones matter (`net.ipv4.conf.*.route_localnet`,
 * `net.ipv4.ip_unprivileged_port_start`). Since API 1.46 an endpoint's
 * DriverOpts can carry per-interface sysctls too, so both go through the
 * allow-list. runc accepts '/' as the separator, so names are compared with '.'.
 */

const ENDPOINT_SYSCTLS = 'com.docker.network.endpoint.sysctls'

export function sysctlName (name: string): string {
  return name.replaceAll('/', '.')
}

export function checkSysctls (body: Obj, rules: Pick<PolicyRules, 'allowedSysctls'>): Violation[] {
  const out: Violation[] = []
  const allowed = rules.allowedSysctls.map(sysctlName)
  const shownAllowed = allowed.length === 0 ? 'none' : allowed.join(', ')
  const judge = (name: string, field: string, what: string): void => {
    if (!matchesAny(sysctlName(name), allowed)) {
      out.push({ rule: 'sysctls', field, message: `${what} is not an allowed sysctl (allowed: ${shownAllowed})` })
    }
  }
  const sysctls = objAt(objAt(body, 'HostConfig'), 'Sysctls')
  for (const name of Object.keys(sysctls ?? {})) {
    const field = formatPath(['HostConfig', 'Sysctls', name])
    judge(name, field, field)
  }
  const endpoints = objAt(objAt(body, 'NetworkingConfig'), 'EndpointsConfig')
  for (const net of Object.keys(endpoints ?? {})) {
    const value = strAt(objAt(objAt(endpoints, net), 'DriverOpts'), ENDPOINT_SYSCTLS)
    if (value === undefined) continue
    const field = formatPath(['NetworkingConfig', 'EndpointsConfig', net, 'DriverOpts', ENDPOINT_SYSCTLS])
    for (const item of value.split(',')) {
      const name = item.split('=')[0]!.trim()
      judge(name, field, `${field} sets ${JSON.stringify(name)}, which`)
    }
  }
  return out
}
