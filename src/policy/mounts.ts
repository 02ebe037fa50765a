import { boolAt, isObj, listAt, objAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { isUnderAnyPrefix, normaliseHostPath, parseBind } from './paths'
import { checkTmpfs } from './tmpfs'
import type { Violation } from './types'

/**
 * Host filesystem access through mounts. Both bind forms (`Binds` strings and
 * `Mounts` of Type bind) must name a host path under an allowed prefix after
 * cleaning. Volumes are fine with the local driver and no driver options: the
 * local driver's `type=none,o=bind,device=/any/path` makes a "volume" that is
 * a bind mount of any host path, and `type=nfs|cifs` mounts remote
 * filesystems from the host. A `VolumeDriver` sends every named or anonymous
 * volume to a plugin, which may map host paths as it likes.
 */

type Rules = Pick<PolicyRules, 'allowedBindPrefixes' | 'requireReadOnlyBinds'> & { resources: Pick<PolicyRules['resources'], 'maxTmpfsSize'> }

export function checkMounts (hc: Obj | undefined, rules: Rules): Violation[] {
  // HostConfig.Tmpfs and Mounts of Type tmpfs: options, targets and sizes (tmpfs.ts).
  const out: Violation[] = checkTmpfs(hc, rules.resources)
  const driver = strAt(hc, 'VolumeDriver') ?? ''
  if (driver !== '') {
    out.push({ rule: 'volume-driver', field: 'HostConfig.VolumeDriver', message: `HostConfig.VolumeDriver=${JSON.stringify(driver)} is not allowed (volume plugins can map host paths)` })
  }
  ;(listAt(hc, 'Binds') ?? []).forEach((entry, i) => {
    if (typeof entry === 'string') checkBind(entry, `HostConfig.Binds[${i}]`, rules, out)
  })
  ;(listAt(hc, 'Mounts') ?? []).forEach((m, i) => {
    if (isObj(m)) checkMount(m, `HostConfig.Mounts[${i}]`, rules, out)
  })
  return out
}

function checkBind (entry: string, field: string, rules: Rules, out: Violation[]): void {
  const parsed = parseBind(entry)
  if (!parsed.ok) {
    out.push({ rule: 'bind-mount', field, message: `${field}=${JSON.stringify(entry)} ${parsed.reason}` })
    return
  }
  const spec = parsed.spec
  if (spec.kind !== 'bind') return // a named or anonymous local volume
  hostPath(spec.source, `${field}=${JSON.stringify(entry)}`, field, rules, out)
  if (rules.requireReadOnlyBinds && !spec.options.includes('ro')) {
    out.push({ rule: 'bind-mount', field, message: `${field}=${JSON.stringify(entry)} must be read-only (add ":ro")` })
  }
}

function checkMount (m: Obj, field: string, rules: Rules, out: Violation[]): void {
  const type = strAt(m, 'Type') ?? ''
  switch (type) {
    case 'bind': {
      const source = strAt(m, 'Source') ?? ''
      hostPath(source, `${field}.Source=${JSON.stringify(source)}`, `${field}.Source`, rules, out)
      if (rules.requireReadOnlyBinds && boolAt(m, 'ReadOnly') !== true) {
        out.push({ rule: 'bind-mount', field: `${field}.ReadOnly`, message: `${field} binds a host path and must set ReadOnly: true` })
      }
      return
    }
    case 'volume': {
      const dc = objAt(objAt(m, 'VolumeOptions'), 'DriverConfig')
      const name = strAt(dc, 'Name') ?? ''
      if (name !== '' && name !== 'local') {
        out.push({ rule: 'volume-driver', field: `${field}.VolumeOptions.DriverConfig.Name`, message: `${field}.VolumeOptions.DriverConfig.Name=${JSON.stringify(name)} is not allowed (only the local driver)` })
      }
      const options = objAt(dc, 'Options')
      if (options !== undefined && Object.keys(options).length > 0) {
        out.push({
          rule: 'volume-driver',
          field: `${field}.VolumeOptions.DriverConfig.Options`,
          message: `${field}.VolumeOptions.DriverConfig.Options are not allowed (local driver options such as type=none,o=bind,device=<path> mount host paths)`
        })
      }
      return
    }
    case 'tmpfs':
    case 'image':
      return
    default:
      // npipe is Windows-only, cluster is swarm CSI; anything else the daemon refuses.
      out.push({ rule: 'mount-type', field: `${field}.Type`, message: `${field}.Type=${JSON.stringify(type)} is not allowed (allowed: bind, volume, tmpfs, image)` })
  }
}

function hostPath (source: string, what: string, field: string, rules: Rules, out: Violation[]): void {
  const clean = normaliseHostPath(source)
  if (!clean.ok) {
    out.push({ rule: 'bind-mount', field, message: `${what}: the host path ${clean.reason}` })
    return
  }
  if (!isUnderAnyPrefix(clean.path, rules.allowedBindPrefixes)) {
    const shown = clean.path === source ? '' : ` (${clean.path} once cleaned)`
    const allowed = rules.allowedBindPrefixes.length === 0 ? 'no bind mounts are allowed' : `allowed: ${rules.allowedBindPrefixes.join(', ')}`
    out.push({ rule: 'bind-mount', field, message: `${what} mounts a host path${shown} outside the allowed bind prefixes (${allowed})` })
  }
}
