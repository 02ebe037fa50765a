import type { UpstreamHost } from '../upstream/hosts'
import { VOLUME_NAME } from '../policy/paths'
import type { VolumeRef } from '../policy/types'
import type { Caller } from './authorize'

/**
 * Volume ownership: a named volume belongs to whoever the gateway created it
 * for, recorded in the owner label (`<ownerLabel>=<principal>`) as on
 * containers. A create that mounts a named volume (src/policy/volume-refs.ts)
 * is forwarded only once every such volume is the caller's own; admin is
 * exempt, and with ownership disabled nothing here runs.
 *
 * For each name the gateway itself sends `POST /volumes/create` with a body
 * it builds: `{"Name", "Driver": "local", "Labels": {<ownerLabel>: caller}}`.
 * Docker's volume create is idempotent: for a name that exists it creates
 * nothing and answers the EXISTING volume with its existing labels
 * (volume/service/store.go create: "if v exists ... return it"), so
 *
 * - a new name is created owned by the caller before dockerd sees the
 *   container create, which then finds it and does not auto-create an
 *   unlabelled one (daemon/volumes.go: it would, with no owner);
 * - two principals racing for one new name: the daemon's store serialises
 *   creates per name (its name lock), exactly one create makes the volume,
 *   the other gets that one back, and the label check below lets only the
 *   first through;
 * - a name held by another principal, or an unlabelled volume an operator
 *   made on the daemon (the gateway's own data volume, say), is refused with
 *   one message whatever the reason, so neither who owns it nor whether it
 *   exists shows.
 *
 * The owner is then read back with `GET /volumes/{name}` (what the daemon
 * stored, not what the create echoes) and must be the caller, with the local
 * driver and no driver options (an operator's `type=none,o=bind,device=/`
 * volume mounts a host path; the gateway never creates one).
 *
 * Not undone: a volume created here for a container create that the daemon
 * then refuses stays, empty and owned by the caller (the caller could have
 * used it anyway). Volumes are not removable through the gateway.
 */

export interface VolumeInfo {
  Name?: unknown
  Driver?: unknown
  Labels?: Record<string, unknown> | null
  Options?: Record<string, unknown> | null
}

/** The body of the gateway's own `POST /volumes/create`, or undefined for a name Docker would not accept. */
export function volumeCreateBody (ref: Pick<VolumeRef, 'name' | 'labels'>, ownerLabel: string, principal: string): string | undefined {
  // Re-checked here: this body is the gateway's, whatever reached it.
  if (!VOLUME_NAME.test(ref.name)) return undefined
  const labels: Record<string, string> = {}
  for (const [k, v] of Object.entries(ref.labels)) if (k !== ownerLabel && typeof v === 'string') labels[k] = v
  labels[ownerLabel] = principal
  return JSON.stringify({ Name: ref.name, Driver: 'local', Labels: labels })
}

/** Is `info` (a volume inspect) the caller's own plain local volume `name`? */
export function isOwnedVolume (info: VolumeInfo, name: string, ownerLabel: string, principal: string): boolean {
  if (info.Name !== name || info.Driver !== 'local') return false
  if (info.Options !== undefined && info.Options !== null && Object.keys(info.Options).length > 0) return false
  return principal !== '' && info.Labels?.[ownerLabel] === principal
}

/** The one answer for a volume the caller may not mount, owned by another or by nobody. */
export function volumeNotOwned (ref: Pick<VolumeRef, 'field' | 'name'>): string {
  return `policy denied: ${ref.field} names volume ${JSON.stringify(ref.name)}, which you do not own (rule: volume-ref)`
}

/** A Mount Source the local driver would not take as a name (volume/local/local.go validateName); never sent. */
export function notAVolumeName (ref: Pick<VolumeRef, 'field' | 'name'>): string {
  return `policy denied: ${ref.field}=${JSON.stringify(ref.name)} is not a volume name (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]+) (rule: volume-ref)`
}

export type VolumeClaim =
  | { ok: true }
  | { ok: false, status: 403 | 502, message: string, reason: string }

/**
 * Create-or-find each named volume on `host` and check it is the caller's.
 * Each name is claimed once, in body order; the first refusal ends it.
 */
export async function claimVolumes (host: UpstreamHost, refs: readonly VolumeRef[], caller: Caller, ownerLabel: string): Promise<VolumeClaim> {
  if (caller.admin) return { ok: true }
  const seen = new Set<string>()
  for (const ref of refs) {
    if (seen.has(ref.name)) continue
    seen.add(ref.name)
    const claim = await claimVolume(host, ref, caller.principal, ownerLabel)
    if (!claim.ok) return claim
  }
  return { ok: true }
}

async function claimVolume (host: UpstreamHost, ref: VolumeRef, principal: string, ownerLabel: string): Promise<VolumeClaim> {
  const refused: VolumeClaim = { ok: false, status: 403, message: volumeNotOwned(ref), reason: `policy: volume-ref ${ref.field}` }
  const body = volumeCreateBody(ref, ownerLabel, principal)
  if (body === undefined) return { ...refused, message: notAVolumeName(ref) }
  // Through the host's client: an unreachable daemon throws 502/504 and counts against its breaker.
  const created = await host.call({ path: '/volumes/create', method: 'POST', headers: { 'content-type': 'application/json' }, body })
  if (created.status >= 500) {
    return { ok: false, status: 502, message: `Docker daemon "${host.name}" could not create volume ${JSON.stringify(ref.name)}`, reason: `volume create answered ${created.status}` }
  }
  // 409 is a name held with another driver (store.go errNameConflict): not the caller's either.
  if (created.status !== 201 && created.status !== 200) return { ...refused, reason: `${refused.reason} (volume create answered ${created.status})` }
  const inspected = await host.call({ path: `/volumes/${encodeURIComponent(ref.name)}` })
  if (inspected.status !== 200) return { ...refused, reason: `${refused.reason} (volume inspect answered ${inspected.status})` }
  let info: VolumeInfo
  try {
    info = JSON.parse(inspected.text ?? '') as VolumeInfo
  } catch {
    return refused
  }
  return isOwnedVolume(info, ref.name, ownerLabel, principal) ? { ok: true } : refused
}
