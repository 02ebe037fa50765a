import type { Filters } from '../docker/query'

/**
 * Ownership rules (issue 4 §2), pure: every container carries the label
 * `<ownerLabel>=<sub>` stamped at create; a principal sees and acts on its
 * own containers only, `admin` on all. A container the caller may not see
 * is answered exactly as a missing one, so its existence does not leak.
 */

export const DEFAULT_OWNER_LABEL = 'docker-gateway.owner'

export function mayAccess (owner: string | undefined, principal: string, admin: boolean): boolean {
  return admin || (owner !== undefined && owner === principal)
}

/**
 * Add the owner constraint to a list call's filters. Docker ANDs the values
 * of the `label` filter (daemon/list.go: every label filter must match), and
 * ANDs different filter names, so whatever else the caller asks for, only
 * containers carrying `<ownerLabel>=<principal>` can come back.
 */
export function scopeListFilters (filters: Filters | undefined, principal: string, ownerLabel: string): Filters {
  const out: Filters = Object.create(null) as Filters
  if (filters !== undefined) for (const [k, v] of Object.entries(filters)) out[k] = [...v]
  out.label = [...(out.label ?? []), `${ownerLabel}=${principal}`]
  return out
}

/**
 * `before` and `since` name a container the daemon looks up (and answers 404
 * for if missing): each must be resolved and owned, or the daemon's answer
 * would reveal that another principal's container exists.
 */
export function filterContainerRefs (filters: Filters | undefined): Array<{ filter: string, ref: string }> {
  if (filters === undefined) return []
  const refs: Array<{ filter: string, ref: string }> = []
  for (const name of ['before', 'since']) {
    for (const ref of filters[name] ?? []) refs.push({ filter: name, ref })
  }
  return refs
}

/** The daemon's own 404 wording (daemon/errors.go errNoSuchContainer). */
export function noSuchContainer (ref: string): string {
  return `No such container: ${ref}`
}
