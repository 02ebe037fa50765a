import { listAt, objAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { formatPath } from './strict-json'
import type { Violation } from './types'

/**
 * Which networks a container may join (rule `network`).
 *
 * A user-defined network is shared by every container on it, and its
 * embedded DNS answers for each member's name and Aliases/DNSNames: a tenant
 * that joins another tenant's network with `Aliases: ["db"]` makes that
 * tenant's clients resolve `db` to its own container (issue 10 review). So
 * only the daemon's default bridge (where embedded DNS and aliases do not
 * exist), `none`, a container's own namespace (`container:<x>`, checked as a
 * container reference) and the networks the operator lists in
 * `allowedNetworks` may be named; aliases, DNS names and links only on the
 * latter.
 *
 * Names are compared exactly, case included: dockerd's FindNetwork (moby
 * daemon/network.go) matches a full ID, then an exact, case-sensitive name,
 * then a unique ID prefix. A network ID (or ID prefix) is refused unless it
 * is itself listed, so a tenant cannot reach an unlisted network by its ID;
 * an allowedNetworks entry that looks like an ID prefix is refused at config
 * load (checkAllowedNetworks), since with no network of that name the daemon
 * would resolve it as the prefix of another network's ID.
 */

/** NetworkMode values that name no user-defined network (runconfig NetworkMode.IsDefault/IsBridge/IsNone). */
export const BUILTIN_NETWORK_MODES: readonly string[] = ['', 'default', 'bridge', 'none']

/** Fields of an EndpointSettings that publish names in a network's embedded DNS or link containers. */
const NAMING_FIELDS = ['Aliases', 'DNSNames', 'Links'] as const

export function checkNetworks (body: Obj, rules: Pick<PolicyRules, 'allowedNetworks'>): Violation[] {
  const out: Violation[] = []
  const allowed = new Set(rules.allowedNetworks)
  const listed = rules.allowedNetworks.length === 0 ? 'none' : rules.allowedNetworks.map(n => JSON.stringify(n)).join(', ')

  const mode = strAt(objAt(body, 'HostConfig'), 'NetworkMode') ?? ''
  // "host" is refused by host-namespace and container:<x> is a container
  // reference (namespaces.ts); everything else names a network.
  if (mode.toLowerCase() !== 'host' && !mode.startsWith('container:') && !BUILTIN_NETWORK_MODES.includes(mode) && !allowed.has(mode)) {
    out.push({
      rule: 'network',
      field: 'HostConfig.NetworkMode',
      message: `HostConfig.NetworkMode=${JSON.stringify(mode)} is not allowed (allowed: "", "default", "bridge", "none", "container:<name>" and the policy's allowedNetworks: ${listed})`
    })
  }

  const endpoints = objAt(objAt(body, 'NetworkingConfig'), 'EndpointsConfig') ?? {}
  for (const net of Object.keys(endpoints)) {
    const base = ['NetworkingConfig', 'EndpointsConfig', net]
    if (!BUILTIN_NETWORK_MODES.includes(net) && !allowed.has(net)) {
      const field = formatPath(base)
      out.push({ rule: 'network', field, message: `${field}: joining network ${JSON.stringify(net)} is not allowed (allowed: "bridge", "default", "none" and the policy's allowedNetworks: ${listed})` })
      continue
    }
    if (allowed.has(net)) continue
    // On the default bridge these do nothing (no embedded DNS there); on the
    // built-in names they would name a network the daemon picks.
    const settings = objAt(endpoints, net)
    for (const key of NAMING_FIELDS) {
      const list = listAt(settings, key) ?? []
      if (list.length === 0) continue
      const field = formatPath([...base, key])
      out.push({ rule: 'network', field, message: `${field} is only allowed on a network listed in the policy's allowedNetworks (${listed})` })
    }
  }
  return out
}

/** allowedNetworks entries that dockerd could read as the ID prefix of another network. */
export function checkAllowedNetworks (names: readonly string[], where: string): string[] {
  return names.flatMap(n => {
    if (n === '') return [`${where}.allowedNetworks: an empty name is the default bridge, which needs no entry`]
    if (/^[0-9a-f]{1,64}$/.test(n)) {
      return [`${where}.allowedNetworks: ${JSON.stringify(n)} looks like a network ID prefix (dockerd resolves an unknown name as an ID prefix, which could be another network); use a name that is not all hex digits`]
    }
    return []
  })
}
