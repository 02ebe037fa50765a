import { isObj, listAt, objAt, strAt, type Obj } from './body'
import { parseBind } from './paths'
import { formatPath } from './strict-json'
import type { PolicyContext, VolumeRef, Violation } from './types'

/**
 * Named volumes a create body mounts. A named local volume is shared state on
 * the daemon: whoever mounts it by name reads and writes what another
 * container left there, and the daemon has no notion of who may. So every
 * NAMED volume is a reference the caller must own, like a VolumesFrom
 * container (src/ownership/volumes.ts checks it against the daemon, where
 * the owner label lives). Anonymous volumes (no source) are created fresh
 * for the one container, under a random name, and need no check.
 *
 * The two places a create body names a volume (daemon/volumes.go
 * registerMountPoints): a `HostConfig.Binds` entry whose source is not an
 * absolute path (volume/mounts/linux_parser.go ParseMountRaw, mirrored by
 * parseBind), and a `HostConfig.Mounts` entry of Type "volume" with a
 * Source. `VolumesFrom` copies another container's mounts and is a
 * container reference (namespaces.ts). `Config.Volumes` keys are container
 * paths only: always anonymous.
 */
export function collectVolumeRefs (hc: Obj | undefined): VolumeRef[] {
  const refs: VolumeRef[] = []
  ;(listAt(hc, 'Binds') ?? []).forEach((entry, i) => {
    if (typeof entry !== 'string') return
    const parsed = parseBind(entry)
    if (parsed.ok && parsed.spec.kind === 'volume') refs.push({ field: `HostConfig.Binds[${i}]`, name: parsed.spec.source, labels: {} })
  })
  ;(listAt(hc, 'Mounts') ?? []).forEach((m, i) => {
    if (!isObj(m) || strAt(m, 'Type') !== 'volume') return
    const source = strAt(m, 'Source') ?? ''
    // Empty: anonymous. A Source that is no volume name is still a ref: the
    // ownership step refuses it (the local driver would too, validateName);
    // with ownership disabled it reaches the daemon as before.
    if (source === '') return
    refs.push({ field: `HostConfig.Mounts[${i}].Source`, name: source, labels: stringLabels(objAt(objAt(m, 'VolumeOptions'), 'Labels')) })
  })
  return refs
}

/**
 * A volume Mount's VolumeOptions.Labels must not carry the owner label:
 * dockerd stamps them on a volume it auto-creates, so a caller could
 * otherwise make a volume that looks like another principal's. The gateway
 * writes that label, as on containers (labels.ts).
 */
export function checkVolumeMounts (hc: Obj | undefined, ctx: Pick<PolicyContext, 'ownerLabel' | 'ownershipEnabled'>): Violation[] {
  const out: Violation[] = []
  ;(listAt(hc, 'Mounts') ?? []).forEach((m, i) => {
    if (!isObj(m) || strAt(m, 'Type') !== 'volume') return
    const labels = objAt(objAt(m, 'VolumeOptions'), 'Labels')
    if (ctx.ownershipEnabled && labels !== undefined && Object.hasOwn(labels, ctx.ownerLabel)) {
      const field = formatPath(['HostConfig', 'Mounts', i, 'VolumeOptions', 'Labels', ctx.ownerLabel])
      out.push({ rule: 'volume-ref', field, message: `${field} is set by the gateway and cannot be sent` })
    }
  })
  return out
}

function stringLabels (labels: Obj | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (labels === undefined) return out
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v
  return out
}
