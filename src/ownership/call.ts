import type { DockerCall } from '../docker/call'
import type { UpstreamHost } from '../upstream/hosts'
import { rewriteContainerRef } from '../policy'
import type { ContainerResolver } from './resolver'
import { authorizeContainer, authorizeExec, authorizeListFilters, type Caller } from './authorize'
import { filterContainerRefs, scopeListFilters } from './rules'
import { claimVolumes } from './volumes'
import { ownedEventFilters } from './events'
import { forgetPruned, ownedPruneFilters } from './prune'
import { containerRefDenied, EventTypeDenied, filterDenied, notOwner, statusError, volumeDenied } from '../errors'

/**
 * The ownership step of a mirrored call (plugins/docker.ts checkOwnership):
 * a principal reaches only its own containers, addressed by full id; what a
 * call names (its target, the containers a create body joins, its named
 * volumes, its list/events/prune filters) is decided here.
 */

/**
 * The ownership decision for a call that needs no daemon lookup: undefined
 * when decided (the list's, events' and prune's owner filters applied, or
 * nothing the call names is owned), an Error when refused, 'lookup' when
 * the daemon must be asked (a target, joins, named volumes, a non-admin's
 * list whose before/since names a container): then applyOwnership.
 */
export function ownFilters (call: DockerCall, caller: Caller, r: ContainerResolver): Error | undefined | 'lookup' {
  if (call.target !== undefined || call.containerRefs.length > 0 || (call.volumeRefs?.length ?? 0) > 0) return 'lookup'
  switch (call.row.id) {
    case 'container.list':
      // An admin's list is everyone's: nothing to add, nothing to check.
      if (caller.admin) return undefined
      if (filterContainerRefs(call.filters).length > 0) return 'lookup'
      call.filters = scopeListFilters(call.filters, caller.principal, r.ownerLabel)
      return undefined
    case 'events': {
      const d = ownedEventFilters(call.filters, caller, r.ownerLabel)
      if (!d.ok) return new EventTypeDenied(d.message)
      if (d.filters !== undefined) call.filters = d.filters
      return undefined
    }
    case 'container.prune': {
      const filters = ownedPruneFilters(call.filters, caller, r.ownerLabel)
      if (filters !== undefined) call.filters = filters
      call.onAnswer = forgetPruned(r, call.host as UpstreamHost)
      return undefined
    }
    default:
      return undefined
  }
}

export async function applyOwnership (call: DockerCall, r: ContainerResolver, caller: Caller, gw: { container?: string }): Promise<void> {
  const host = call.host as UpstreamHost
  const row = call.row
  if (row.target === 'container' && call.target !== undefined) {
    const d = await authorizeContainer(r, host, call.target, caller)
    if (!d.ok) throw d.status === 404 ? notOwner('container', d.message) : statusError(d.status, d.message)
    call.target = d.id
    gw.container = d.id
  } else if (row.target === 'exec' && call.target !== undefined) {
    const d = await authorizeExec(r, host, call.target, caller)
    if (!d.ok) throw d.status === 404 ? notOwner('exec', d.message) : statusError(d.status, d.message)
  } else if (call.containerRefs.length > 0 && call.decoded !== undefined) {
    for (const ref of call.containerRefs) {
      const d = await authorizeContainer(r, host, ref.ref, caller)
      // A join of a container the caller cannot see: refuse without saying whether it exists.
      if (!d.ok) throw containerRefDenied(ref.field, ref.ref)
      rewriteContainerRef(call.decoded, ref, d.id)
    }
    call.body = JSON.stringify(call.decoded)
  } else if (row.id === 'container.list') {
    const d = await authorizeListFilters(r, host, call.filters, caller)
    if (!d.ok) throw d.status === 404 ? filterDenied(d.message) : statusError(d.status, d.message)
    if (d.filters !== undefined) call.filters = d.filters
  }
  // Named volumes, last (it may create them): each must be the caller's (src/ownership/volumes.ts).
  const volumes = await claimVolumes(host, call.volumeRefs ?? [], caller, r.ownerLabel)
  if (!volumes.ok) throw volumes.status === 403 ? volumeDenied(volumes.message, volumes.reason) : statusError(volumes.status, volumes.message)
}

