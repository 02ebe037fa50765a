import { boolAt, isSet, listAt, objAt, strAt, stringsAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { goToUpper } from './go-json'
import type { Violation } from './types'

/**
 * HostConfig fields that hand out privileges outright (container-endpoints.md §6.2).
 */

type Rules = Pick<PolicyRules, 'allowedCapabilities' | 'allowedRuntimes' | 'allowedLogDrivers'>

export function checkPrivileges (hc: Obj | undefined, rules: Rules): Violation[] {
  const out: Violation[] = []
  if (boolAt(hc, 'Privileged') === true) {
    out.push({ rule: 'privileged', field: 'HostConfig.Privileged', message: 'HostConfig.Privileged=true is not allowed (all capabilities and host devices, no confinement)' })
  }
  checkCapabilities(hc, rules, out)
  checkSecurityOpt(hc, out)
  out.push(...checkDevices(hc, 'HostConfig.'))
  for (const key of ['MaskedPaths', 'ReadonlyPaths']) {
    // Any list replaces the daemon's defaults (/proc/kcore, /proc/sysrq-trigger,
    // read-only /proc/sys, ...), and `[]` removes them all, which is what
    // `--security-opt systempaths=unconfined` sends. Only absent or null keeps them.
    if (isSet(hc, key)) {
      out.push({ rule: 'masked-paths', field: `HostConfig.${key}`, message: `HostConfig.${key} is not allowed (setting it replaces the default masked and read-only /proc and /sys paths)` })
    }
  }
  const runtime = strAt(hc, 'Runtime') ?? ''
  if (!rules.allowedRuntimes.includes(runtime)) {
    // Any name with a '.' is resolved by containerd to a containerd-shim-* binary on the host PATH.
    out.push({ rule: 'runtime', field: 'HostConfig.Runtime', message: `HostConfig.Runtime=${JSON.stringify(runtime)} is not an allowed runtime (allowed: ${list(rules.allowedRuntimes)})` })
  }
  const annotations = objAt(hc, 'Annotations')
  if (annotations !== undefined && Object.keys(annotations).length > 0) {
    out.push({ rule: 'annotations', field: 'HostConfig.Annotations', message: 'HostConfig.Annotations are not allowed (runtimes act on OCI annotations, e.g. kata hypervisor paths)' })
  }
  const logType = strAt(objAt(hc, 'LogConfig'), 'Type') ?? ''
  if (!rules.allowedLogDrivers.includes(logType)) {
    // awslogs/gcplogs use the host's cloud credentials; syslog, gelf, fluentd,
    // splunk open connections from the host to an address the caller picks.
    out.push({ rule: 'log-driver', field: 'HostConfig.LogConfig.Type', message: `HostConfig.LogConfig.Type=${JSON.stringify(logType)} is not an allowed log driver (allowed: ${list(rules.allowedLogDrivers)})` })
  }
  return out
}

/** Normalise a capability like the daemon (oci/caps NormalizeLegacyCapabilities): Go ToUpper, then a CAP_ prefix. */
export function normaliseCapability (cap: string): string {
  const up = goToUpper(cap)
  if (up === 'ALL') return up
  return up.startsWith('CAP_') ? up : `CAP_${up}`
}

function checkCapabilities (hc: Obj | undefined, rules: Rules, out: Violation[]): void {
  const allowed = new Set(rules.allowedCapabilities.map(normaliseCapability).filter(c => c !== 'ALL' && c !== 'CAP_ALL'))
  stringsAt(hc, 'CapAdd').forEach((cap, i) => {
    const name = normaliseCapability(cap)
    const field = `HostConfig.CapAdd[${i}]`
    if (name === 'ALL' || name === 'CAP_ALL') {
      out.push({ rule: 'capabilities', field, message: `${field}=${JSON.stringify(cap)} is not allowed (ALL is never allowed)` })
    } else if (!allowed.has(name)) {
      out.push({ rule: 'capabilities', field, message: `${field}=${JSON.stringify(cap)} is not an allowed capability (allowed: ${list(rules.allowedCapabilities)})` })
    }
  })
}

/** Go strconv.ParseBool. */
function parseGoBool (s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  return undefined
}

/**
 * Only `no-new-privileges` (on) passes. The daemon (daemon_unix.go
 * parseSecurityOpt) splits on '=' and else on the legacy ':'; every other key
 * loosens confinement: `label=disable`/`disable` or a custom SELinux type
 * (`label=type:spc_t`), `seccomp=unconfined` or an inline profile,
 * `apparmor=unconfined` or another profile, `writable-cgroups` (28.0+), and
 * `no-new-privileges=false`, which undoes a daemon started with
 * --no-new-privileges.
 */
function checkSecurityOpt (hc: Obj | undefined, out: Violation[]): void {
  stringsAt(hc, 'SecurityOpt').forEach((opt, i) => {
    if (opt === 'no-new-privileges') return
    const sep = opt.includes('=') ? '=' : (opt.includes(':') ? ':' : undefined)
    const key = sep === undefined ? opt : opt.slice(0, opt.indexOf(sep))
    const value = sep === undefined ? '' : opt.slice(opt.indexOf(sep) + 1)
    if (key === 'no-new-privileges' && parseGoBool(value) === true) return
    const why = key === 'label' || opt === 'disable'
      ? 'SELinux label options can disable or replace confinement'
      : key === 'seccomp'
        ? 'custom and unconfined seccomp profiles are not allowed'
        : key === 'apparmor'
          ? 'custom and unconfined AppArmor profiles are not allowed'
          : key === 'no-new-privileges'
            ? 'no-new-privileges can only be turned on'
            : 'only no-new-privileges is allowed'
    const field = `HostConfig.SecurityOpt[${i}]`
    out.push({ rule: 'security-opt', field, message: `${field}=${JSON.stringify(opt)} is not allowed (${why})` })
  })
}

/**
 * Devices give raw host devices (a directory is walked, so /dev is every
 * device); DeviceCgroupRules open the device cgroup, and CAP_MKNOD is a
 * default capability, so the container can mknod the host disk; DeviceRequests
 * let GPU/CDI hooks inject host devices, libraries and mounts.
 */
export function checkDevices (r: Obj | undefined, prefix: string): Violation[] {
  const out: Violation[] = []
  for (const key of ['Devices', 'DeviceCgroupRules', 'DeviceRequests']) {
    if ((listAt(r, key) ?? []).length > 0) {
      out.push({ rule: 'devices', field: `${prefix}${key}`, message: `${prefix}${key} is not allowed (host device access)` })
    }
  }
  return out
}

function list (values: readonly string[]): string {
  return values.length === 0 ? 'none' : values.map(v => JSON.stringify(v)).join(', ')
}
