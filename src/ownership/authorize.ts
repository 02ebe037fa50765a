import type { UpstreamHost } from '../upstream/hosts'
import type { Filters } from '../docker/query'
import type { ContainerResolver } from './resolver'
import { isAdmin } from '../auth/scopes'
import { FULL_ID, ambiguousPrefix, mayAccess, matchOwnReference, noSuchContainer, scopeListFilters, filterContainerRefs } from './rules'

/**
 * The ownership step of the request path: turns a client's container
 * reference into the full id the call will be forwarded with, or the answer
 * the daemon would give for a container that does not exist.
 */

export interface Caller {
  principal: string
  admin: boolean
}

export type TargetDecision =
  | { ok: true, id: string }
  | { ok: false, status: number, message: string }

function refused (status: number, body: string, ref: string): TargetDecision {
  // Pass the daemon's own error through; fall back to its wording.
  try {
    const parsed = JSON.parse(body) as { message?: unknown }
    if (typeof parsed.message === 'string') return { ok: false, status, message: parsed.message }
  } catch {}
  return { ok: false, status, message: status === 404 ? noSuchContainer(ref) : body }
}

/**
 * A reference is resolved so that nothing about other principals' containers
 * shows (issue 10 finding 4: an id prefix shared only by others' containers
 * answered the daemon's 500 "Multiple IDs found", a missing one 404):
 *
 * - admin: the daemon resolves it (full id, name, unique prefix), as is;
 * - anyone else, full id: the daemon looks it up exactly (no prefix or name
 *   matching is involved); not owned -> the missing-container 404;
 * - anyone else, a name or id prefix: resolved among the caller's own
 *   containers only (one filtered list, matchOwnReference). The daemon is
 *   never asked to resolve it, so its answer cannot depend on others'
 *   containers; and every outcome costs that same one list call, whose
 *   answer depends on the caller's own containers only (see timing below).
 *
 * Timing: for a non-admin short reference the gateway's work is one
 * `GET /containers/json?all=1&filters={"label":[owner]}` whatever the
 * reference names: the daemon walks all its containers for any list, and
 * serialises the caller's own, so "names another principal's container",
 * "is a prefix only others share" and "names nothing" take the same path
 * and the same time class as each other.
 */
export async function authorizeContainer (resolver: ContainerResolver, host: UpstreamHost, ref: string, caller: Caller): Promise<TargetDecision> {
  if (!caller.admin && !FULL_ID.test(ref)) return await authorizeOwnReference(resolver, host, ref, caller)
  const r = await resolver.resolve(host, ref)
  if (!r.found) return refused(r.status, r.body, ref)
  if (!mayAccess(r.owner, caller.principal, caller.admin)) {
    // Same status and words as a missing container: existence does not leak.
    return { ok: false, status: 404, message: noSuchContainer(ref) }
  }
  return { ok: true, id: r.id }
}

async function authorizeOwnReference (resolver: ContainerResolver, host: UpstreamHost, ref: string, caller: Caller): Promise<TargetDecision> {
  const list = await resolver.listOwned(host, caller.principal)
  if (!list.ok) return refused(list.status, list.body, ref)
  const m = matchOwnReference(ref, list.containers, caller.principal, resolver.ownerLabel)
  if (m.kind === 'found') {
    resolver.learn(host, m.id, caller.principal)
    return { ok: true, id: m.id }
  }
  if (m.kind === 'none') return { ok: false, status: 404, message: noSuchContainer(ref) }
  // Several of the caller's OWN containers share the prefix: the daemon's
  // ambiguity answer (its status and words differ by version: 20.10 500,
  // later 400 InvalidParameter) tells the caller only about its own.
  const r = await resolver.resolve(host, ref)
  if (!r.found && r.status !== 404) return refused(r.status, r.body, ref)
  // The daemon resolved it after all: `ref` is also the exact name of a
  // container (its name lookup comes before prefixes). The caller must not
  // learn whose, so the answer is the ambiguity the caller's own containers
  // make, in the daemon's words.
  return { ok: false, ...ambiguousPrefix(ref, host.apiVersion) }
}

export async function authorizeExec (resolver: ContainerResolver, host: UpstreamHost, execId: string, caller: Caller): Promise<TargetDecision> {
  const r = await resolver.resolveExec(host, execId)
  if (!r.found) {
    const d = refused(r.status, r.body, execId)
    return d
  }
  if (!mayAccess(r.owner, caller.principal, caller.admin)) {
    // The daemon's wording for an unknown exec id (daemon/exec.go errExecNotFound).
    return { ok: false, status: 404, message: `No such exec instance: ${execId}` }
  }
  return { ok: true, id: execId }
}

/**
 * Filters for a list call: the owner label is ANDed in, and containers named
 * by `before`/`since` must be the caller's (else the daemon's 404-or-not
 * would reveal them). They are rewritten to full ids.
 */
export async function authorizeListFilters (resolver: ContainerResolver, host: UpstreamHost, filters: Filters | undefined, caller: Caller): Promise<{ ok: true, filters: Filters | undefined } | { ok: false, status: number, message: string }> {
  if (caller.admin) return { ok: true, filters }
  const scoped = scopeListFilters(filters, caller.principal, resolver.ownerLabel)
  for (const { filter, ref } of filterContainerRefs(filters)) {
    const d = await authorizeContainer(resolver, host, ref, caller)
    if (!d.ok) return d
    scoped[filter] = (scoped[filter] ?? []).map(v => v === ref ? d.id : v)
  }
  return { ok: true, filters: scoped }
}

/**
 * The fleet list's per-host filter transform: the same owner constraint and
 * before/since checks as a single-host list. A refusal fails that host only
 * (the fan-out reports it) rather than the whole call.
 */
export function ownedListFilters (resolver: ContainerResolver) {
  return (request: { gw: { principal?: string, scopes?: readonly string[] } }) => {
    const caller = { principal: request.gw.principal ?? '', admin: isAdmin(request.gw.scopes) }
    return async (host: UpstreamHost, filters: Filters | undefined): Promise<Filters | undefined> => {
      const d = await authorizeListFilters(resolver, host, filters, caller)
      if (!d.ok) throw new Error(d.message)
      return d.filters
    }
  }
}
