import type { Filters } from '../docker/query'
import type { UpstreamHost } from '../upstream/hosts'
import type { Caller } from './authorize'
import type { ContainerResolver } from './resolver'
import { FULL_ID, scopeListFilters } from './rules'

/**
 * `POST /containers/prune`: a non-admin prunes only its own stopped
 * containers. dockerd's prune (daemon/prune.go ContainersPrune) walks every
 * container that is not running and removes those its filters match; its
 * `label` values must all match (matchLabels: MatchKVList), so with
 * `<ownerLabel>=<principal>` ANDed in only the caller's containers are
 * removed, and the answer (ContainersDeleted, SpaceReclaimed) is made of
 * those alone. `label!` and `until` can only narrow that further.
 *
 * An admin's prune is dockerd's own: every principal's stopped containers,
 * as the admin scope sees every container.
 */
export function ownedPruneFilters (filters: Filters | undefined, caller: Caller, ownerLabel: string): Filters | undefined {
  return caller.admin ? filters : scopeListFilters(filters, caller.principal, ownerLabel)
}

/**
 * Forgets the pruned ids from the resolver's id -> owner cache, read off the
 * daemon's answer (an admin's prune included). Only hygiene: ids are never
 * reused, so a stale entry can only answer for a container that is gone (the
 * daemon's 404 then). An answer too long to be gathered
 * (relay SHORT_BUFFER_MAX, thousands of ids) is not seen; the cache's bound
 * evicts those entries in time.
 */
export function forgetPruned (resolver: ContainerResolver, host: UpstreamHost): (status: number, body: Buffer) => void {
  return (status, body) => {
    if (status !== 200) return
    let deleted: unknown
    try {
      deleted = (JSON.parse(body.toString('utf8')) as { ContainersDeleted?: unknown }).ContainersDeleted
    } catch {
      return
    }
    if (!Array.isArray(deleted)) return
    for (const id of deleted) if (typeof id === 'string' && FULL_ID.test(id)) resolver.forget(host, id)
  }
}
