import type { RouteDef } from '../docker/routes'
import { buildUpstreamPath, encodeQuery, type Filters } from '../docker/query'
import type { UpstreamHost } from './hosts'
import type { UpstreamCallError } from './call'

/**
 * `GET /hosts/_all/containers/json`: the container list of every host the
 * caller may reach, asked in parallel, each host with its own deadline and
 * its own pool, merged into one list where every item names its `Host`.
 *
 * A host that is down, slow or answers an error is reported as failed and
 * left out; it never fails the whole call, and never delays it past the
 * deadline (a fleet view that waits for its slowest member is no view).
 */

/**
 * Per-call, per-host rewrite of the list filters (ownership filters are
 * injected here: the same principal may own different containers on each
 * host). Returning undefined sends no filters. May be async; if it throws,
 * that host is reported failed with the error's message.
 */
export type FiltersTransform = (host: UpstreamHost, filters: Filters | undefined) => Filters | undefined | Promise<Filters | undefined>

export interface FanOutOptions {
  hosts: readonly UpstreamHost[]
  /** The list route definition (routes.ts `container.list`). */
  route: RouteDef
  version?: string
  params: Map<string, string>
  filters?: Filters
  transformFilters?: FiltersTransform
  deadlineMs: number
  /** Aborts every host's request (the client went away). */
  signal?: AbortSignal
  userAgent?: string
}

export interface FailedHost {
  host: string
  reason: string
}

export interface FanOutResult {
  items: Array<Record<string, unknown>>
  failed: FailedHost[]
}

async function listOne (o: FanOutOptions, host: UpstreamHost): Promise<Array<Record<string, unknown>>> {
  const admission = host.breaker.admit()
  if (!admission.ok) throw new Error(`unavailable: ${admission.reason}`)
  // A transform that throws (e.g. an owner lookup failing on this host) fails this host only.
  const filters = o.transformFilters !== undefined ? await o.transformFilters(host, o.filters) : o.filters
  const path = buildUpstreamPath(o.route, undefined, o.version, encodeQuery(o.params, filters))
  const headers: Record<string, string> = {}
  if (o.userAgent !== undefined) headers['user-agent'] = o.userAgent
  let res
  try {
    // The host's client reports to its breaker: a missed deadline or a
    // refused connection counts against the daemon, any answer for it.
    res = await host.call({ path, headers, signal: o.signal, deadlineMs: o.deadlineMs })
  } catch (err) {
    if (o.signal?.aborted === true) throw new Error('client disconnected')
    throw new Error((err as UpstreamCallError).reason ?? (err as Error).message)
  }
  let body: unknown
  try {
    body = JSON.parse(res.text ?? '')
  } catch (err) {
    throw new Error(`unreadable answer: ${(err as Error).message}`)
  }
  if (res.status !== 200) {
    const message = (body as { message?: unknown } | null)?.message
    throw new Error(`daemon answered ${res.status}${typeof message === 'string' ? `: ${message}` : ''}`)
  }
  if (!Array.isArray(body)) throw new Error('daemon answered something other than a list')
  const items: Array<Record<string, unknown>> = []
  for (const item of body) {
    if (item !== null && typeof item === 'object') items.push({ ...(item as Record<string, unknown>), Host: host.name })
  }
  return items
}

export async function fanOutContainerList (o: FanOutOptions): Promise<FanOutResult> {
  const settled = await Promise.allSettled(o.hosts.map(async h => await listOne(o, h)))
  const result: FanOutResult = { items: [], failed: [] }
  settled.forEach((s, i) => {
    const host = o.hosts[i] as UpstreamHost
    if (s.status === 'fulfilled') result.items.push(...s.value)
    else result.failed.push({ host: host.name, reason: (s.reason as Error).message })
  })
  // Newest first across the fleet, as `docker ps` orders one daemon's list;
  // `limit` then means the newest N of the fleet (each host was asked for N).
  result.items.sort((a, b) => (Number(b.Created) || 0) - (Number(a.Created) || 0))
  const limit = Number(o.params.get('limit'))
  if (Number.isInteger(limit) && limit > 0) result.items.length = Math.min(result.items.length, limit)
  return result
}
