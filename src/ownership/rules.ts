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

/** A 64-hex full container id: the daemon looks it up exactly, never as a prefix. */
export const FULL_ID = /^[a-f0-9]{64}$/

/** One row of the caller's own container list (GET /containers/json). */
export interface OwnedContainer {
  Id: string
  Names?: readonly string[] | null
  Labels?: Readonly<Record<string, string>> | null
}

export type OwnMatch =
  | { kind: 'found', id: string }
  | { kind: 'none' }
  | { kind: 'ambiguous' }

/**
 * Resolve a short reference (a name or an id prefix) among the caller's OWN
 * containers only, in the daemon's order (daemon/container.go GetContainer):
 * exact full id, then exact name (daemon/names.go: names are stored with a
 * leading "/"), then a unique id prefix. Other principals' containers never
 * take part, so neither the outcome nor the work done depends on them: a
 * prefix that only others' containers share is "none", exactly like a prefix
 * nothing has (issue 10 finding 4), and a prefix shared by one own and one
 * foreign container resolves to the own one.
 *
 * Rows whose owner label is not the caller's are ignored even if the list
 * returned them (the list is asked with the owner filter; this is the belt).
 */
export function matchOwnReference (ref: string, owned: readonly OwnedContainer[], principal: string, ownerLabel: string): OwnMatch {
  const mine = owned.filter(c => c.Labels?.[ownerLabel] === principal && typeof c.Id === 'string')
  const exact = mine.find(c => c.Id === ref)
  if (exact !== undefined) return { kind: 'found', id: exact.Id }
  const name = ref.startsWith('/') ? ref : `/${ref}`
  const named = mine.find(c => (c.Names ?? []).includes(name))
  if (named !== undefined) return { kind: 'found', id: named.Id }
  if (ref === '') return { kind: 'none' }
  const prefixed = mine.filter(c => c.Id.startsWith(ref))
  if (prefixed.length === 1) return { kind: 'found', id: (prefixed[0] as OwnedContainer).Id }
  return prefixed.length === 0 ? { kind: 'none' } : { kind: 'ambiguous' }
}

/**
 * The daemon's answer to an ambiguous id prefix. dockerd 20.10 (API 1.41)
 * wraps truncindex.ErrAmbiguousPrefix as a system error: 500 "Multiple IDs
 * found with provided prefix: <ref>" (daemon/container.go GetContainer,
 * observed on 20.10.24). Later daemons, which replaced truncindex with the
 * memdb prefix index, answer 400 InvalidParameter "multiple IDs found with
 * provided prefix: <ref>" (daemon/container/view.go). Used only when the
 * daemon's own answer cannot be passed through.
 */
export function ambiguousPrefix (ref: string, apiVersion: string | undefined): { status: number, message: string } {
  const minor = /^1\.(\d+)$/.exec(apiVersion ?? '')?.[1]
  if (minor === undefined || Number(minor) <= 41) return { status: 500, message: `Multiple IDs found with provided prefix: ${ref}` }
  return { status: 400, message: `multiple IDs found with provided prefix: ${ref}` }
}
