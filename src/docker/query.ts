import type { ParamKind, RouteDef } from './routes'
import { CONTAINER_REF } from './match'

/**
 * Query parameters: only the ones an endpoint documents are forwarded, each
 * checked for its kind and re-encoded. Unknown parameters are dropped
 * silently, because SDKs send extras (docker-py's `trunc_cmd`) and dockerd
 * ignores them too.
 */

/** Filter names `GET /containers/json` documents (Engine API v1.41-v1.55). */
export const CONTAINER_FILTERS: ReadonlySet<string> = new Set([
  'ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation',
  'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume'
])

/** Parsed `filters`: name -> values. Docker also accepts the legacy `{"name": {"value": true}}` form. */
export type Filters = Record<string, string[]>

export interface QueryOk {
  ok: true
  /** Validated parameters, first value wins as in Go's url.Values.Get. */
  params: Map<string, string>
  filters?: Filters
}
export interface QueryRefused { ok: false, message: string }
export type QueryResult = QueryOk | QueryRefused

const INT = /^-?[0-9]{1,18}$/
// Signal names and numbers as `docker kill -s` takes them (SIGKILL, KILL, 9, SIGRTMIN+3).
const SIGNAL = /^[A-Za-z0-9+]{1,24}$/
// ps_args reach `ps` on the daemon's host (daemon/top_unix.go splits on
// spaces, no shell); allow option-like words only.
const PS_ARGS = /^[A-Za-z0-9 ,=_-]{0,128}$/
const TAIL = /^(all|[0-9]{1,18})$/
// since/until: unix timestamps with fraction, RFC 3339 dates, or Go durations like 10m.
const TIMESTAMP = /^[0-9A-Za-z.:+-]{1,64}$/
const CONDITION = /^(not-running|next-exit|removed)$/
const PLATFORM = /^[a-z0-9_./-]{0,64}$/
const DETACH_KEYS = /^[a-z0-9,-]{0,64}$/

function checkValue (kind: ParamKind, name: string, value: string): string | undefined {
  switch (kind) {
    case 'bool': return undefined
    case 'int': return INT.test(value) ? undefined : `invalid value for "${name}": expected an integer, got "${value}"`
    case 'signal': return SIGNAL.test(value) ? undefined : `invalid signal "${value}"`
    case 'containerName':
      return CONTAINER_REF.test(value.startsWith('/') ? value.slice(1) : value)
        ? undefined
        // The daemon's own wording for a bad name (daemon/names.go).
        : `Invalid container name (${value}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`
    case 'psArgs': return PS_ARGS.test(value) ? undefined : `invalid value for "${name}": only letters, digits, spaces and , = _ - are allowed`
    case 'tail': return TAIL.test(value) ? undefined : `invalid value for "tail": expected "all" or a number, got "${value}"`
    case 'timestamp': return TIMESTAMP.test(value) ? undefined : `invalid value for "${name}": expected a timestamp or duration`
    case 'condition': return CONDITION.test(value) ? undefined : `invalid value for "condition": expected not-running, next-exit or removed`
    case 'platform': return PLATFORM.test(value) ? undefined : `invalid value for "platform"`
    case 'detachKeys': return DETACH_KEYS.test(value) ? undefined : `invalid value for "detachKeys"`
    case 'filters': return undefined
  }
}

/** Parse and check a `filters` value: a JSON object whose keys are documented filter names. */
export function parseFilters (raw: string): { ok: true, filters: Filters } | QueryRefused {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return { ok: false, message: 'invalid filters: not valid JSON' }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, message: 'invalid filters: expected a JSON object such as {"label":["a=b"]}' }
  }
  const filters: Filters = Object.create(null) as Filters
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!CONTAINER_FILTERS.has(key)) {
      return { ok: false, message: `invalid filter '${key}'` }
    }
    if (Array.isArray(value)) {
      if (!value.every((v): v is string => typeof v === 'string')) {
        return { ok: false, message: `invalid filters: values of '${key}' must be strings` }
      }
      filters[key] = value
    } else if (value !== null && typeof value === 'object') {
      // Legacy form {"label": {"a=b": true}} (filters.FromJSON accepts it).
      const values: string[] = []
      for (const [v, on] of Object.entries(value as Record<string, unknown>)) {
        if (typeof on !== 'boolean') return { ok: false, message: `invalid filters: values of '${key}' must be strings` }
        if (on) values.push(v)
      }
      filters[key] = values
    } else {
      return { ok: false, message: `invalid filters: values of '${key}' must be a list of strings` }
    }
  }
  return { ok: true, filters }
}

export function validateQuery (route: RouteDef, rawQuery: string): QueryResult {
  const params = new Map<string, string>()
  if (rawQuery === '') return { ok: true, params }
  let filters: Filters | undefined
  let search: URLSearchParams
  try {
    search = new URLSearchParams(rawQuery)
  } catch {
    return { ok: false, message: 'invalid query string' }
  }
  for (const [name, value] of search) {
    const kind = route.query[name]
    if (kind === undefined || params.has(name)) continue
    const problem = checkValue(kind, name, value)
    if (problem !== undefined) return { ok: false, message: problem }
    if (kind === 'filters') {
      const f = parseFilters(value)
      if (!f.ok) return f
      filters = f.filters
    }
    params.set(name, value)
  }
  const result: QueryOk = { ok: true, params }
  if (filters !== undefined) result.filters = filters
  return result
}

/** Re-encode validated parameters for the upstream request. */
export function encodeQuery (params: Map<string, string>, filters?: Filters): string {
  let out = ''
  for (const [name, value] of params) {
    const v = name === 'filters' && filters !== undefined ? JSON.stringify(filters) : value
    out += (out === '' ? '?' : '&') + encodeURIComponent(name) + '=' + encodeURIComponent(v)
  }
  if (filters !== undefined && !params.has('filters')) {
    out += (out === '' ? '?' : '&') + 'filters=' + encodeURIComponent(JSON.stringify(filters))
  }
  return out
}

/** The upstream path: version prefix, fixed segments and the encoded target, nothing from the raw URL. */
export function buildUpstreamPath (route: RouteDef, target: string | undefined, version: string | undefined, query: string): string {
  let path = version === undefined ? '' : `/v${version}`
  for (const s of route.segments) {
    path += '/' + (s === ':id' || s === ':exec' ? encodeURIComponent(target ?? '') : s)
  }
  return path + query
}
