import type { ParamKind, RouteDef } from './routes'
import { CONTAINER_REF } from './names'
import { parsePsArgs } from './ps-args'

/**
 * Query parameters: only the ones an endpoint documents are forwarded, each
 * checked for its kind and re-encoded (routes.ts says, per route, which kind
 * each documented parameter has or why it is dropped). Unknown parameters are
 * dropped silently, because SDKs send extras (docker-py's `trunc_cmd`) and
 * dockerd ignores them too.
 *
 * For each kind, what reaches the daemon and which program reads it:
 * - bool, off, int, seconds, ttySize, tail, condition: parsed by dockerd's
 *   Go code into a number or flag; forwarded normalised or bounded.
 * - timestamp, platform, detachKeys, signal, containerName: parsed by dockerd
 *   (timetypes, containerd platforms, term.ToBytes, signal.ParseSignal,
 *   names.go) into values that never leave the daemon; a small charset.
 * - filters (container list): compared by dockerd against its own container
 *   records (daemon/list.go); `before`/`since` name containers and are
 *   checked by ownership; no filter runs a host program. Names, value count
 *   and value text are bounded.
 * - psArgs: the one value a host program (`ps`, as root) reads: a grammar,
 *   see ps-args.ts, and the answer is checked by outcome (top.ts).
 * - imageFilters (image list): compared by dockerd against its own image
 *   store (before/since/reference name local images, until is a time,
 *   dangling and label match metadata); nothing is fetched. Bounded as above.
 * - ociPlatform (image inspect): decoded by dockerd into an OCI platform and
 *   matched against local manifests; forwarded re-serialised from the known keys.
 * - imageRef (pull): read by dockerd's reference parser and then by its
 *   distribution code, which connects to the registry the reference names:
 *   the pull policy (src/policy/image.ts checkPull) decides the whole
 *   reference against the allow-list before anything is forwarded.
 * - containerPath (docker cp): dockerd joins it to `/` and cleans it, so
 *   `..` cannot climb above the container's root, then resolves its
 *   directory inside the container's root filesystem with every symlink
 *   scoped to that root (container.ResolvePath, symlink.FollowSymlinkInScope).
 *   Any path text is therefore a path in the container; the gateway refuses
 *   only what is malformed: empty, longer than PATH_MAX, control characters.
 */

/** Filter names `GET /containers/json` documents (Engine API v1.41-v1.55). */
export const CONTAINER_FILTERS: ReadonlySet<string> = new Set([
  'ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation',
  'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume'
])

/**
 * Filter names `GET /events` documents (v1.41-v1.56). dockerd matches each
 * against the event in memory (daemon/events/filter.go): no lookup, no host
 * program. Every one is forwarded: for a non-admin the owner label and
 * `type=container` are ANDed in (src/ownership/events.ts), after which a
 * filter can only narrow the caller's own containers' events.
 */
export const EVENT_FILTERS: ReadonlySet<string> = new Set([
  'config', 'container', 'daemon', 'event', 'image', 'label', 'network',
  'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'
])

/**
 * Filter names `POST /containers/prune` takes: the documented `label` and
 * `until`, and `label!`, the documented `label!=...` form as the CLI sends it
 * (its own key; dockerd's containersAcceptedFilters). The owner label is
 * ANDed into `label` for a non-admin (src/ownership/prune.ts).
 */
export const PRUNE_FILTERS: ReadonlySet<string> = new Set(['label', 'label!', 'until'])

/**
 * Filter names `GET /images/json` documents (v1.41-v1.56). dockerd compares
 * each against its own image store (before/since/reference name local
 * images, until is a time, dangling and label match metadata): nothing is
 * fetched, no host program runs. Images have no owner: nothing is added.
 */
export const IMAGE_FILTERS: ReadonlySet<string> = new Set(['before', 'dangling', 'label', 'reference', 'since', 'until'])

type FilterKind = 'filters' | 'eventFilters' | 'pruneFilters' | 'imageFilters'
const FILTER_NAMES: Readonly<Record<FilterKind, ReadonlySet<string>>> = {
  filters: CONTAINER_FILTERS,
  eventFilters: EVENT_FILTERS,
  pruneFilters: PRUNE_FILTERS,
  imageFilters: IMAGE_FILTERS
}
function isFilterKind (kind: ParamKind): kind is FilterKind {
  return kind === 'filters' || kind === 'eventFilters' || kind === 'pruneFilters' || kind === 'imageFilters'
}

/** Parsed `filters`: name -> values. Docker also accepts the legacy `{"name": {"value": true}}` form. */
export type Filters = Record<string, string[]>

export interface QueryOk {
  ok: true
  /** Validated parameters, first value wins as in Go's url.Values.Get. */
  params: Map<string, string>
  filters?: Filters
}
/** A refused query: 400, or 403 for a capability refused on purpose (kind `refused`). */
export interface QueryRefused { ok: false, message: string, status?: 403, param?: string }
export type QueryResult = QueryOk | QueryRefused

const INT = /^-?[0-9]{1,9}$/
// Signal names and numbers as `docker kill -s` takes them (SIGKILL, KILL, 9, SIGRTMIN+3).
const SIGNAL = /^[A-Za-z0-9+]{1,24}$/
const TAIL = /^(all|[0-9]{1,18})$/
// since/until: unix timestamps with fraction, RFC 3339 dates, or Go durations like 10m.
const TIMESTAMP = /^[0-9A-Za-z.:+-]{1,64}$/
/**
 * /events' since and until: dockerd reads them with ParseTimestamps alone
 * (api/server/router/system eventTime), `seconds[.fraction]`; the CLI and the
 * SDKs turn `10m` or a date into that form before they send it. Anything else
 * would be the daemon's 500 (a strconv error), so it is a 400 here. Ten digits
 * reach the year 2286; no sign.
 */
const UNIX_TIME = /^([0-9]{1,10})(?:\.([0-9]{1,9}))?$/
const CONDITION = /^(not-running|next-exit|removed)$/
const PLATFORM = /^[a-z0-9_./-]{0,64}$/
const DETACH_KEYS = /^[a-z0-9,-]{0,64}$/
// Registry host (with port, or a bracketed IPv6 address), path, tag, digest: the reference grammar's characters.
const IMAGE_REF = /^[A-Za-z0-9._:@/[\]-]{0,512}$/
/** The OCI platform keys dockerd decodes (ocispec.Platform), each a short string; os.features a list of them. */
const OCI_PLATFORM_KEYS = new Set(['architecture', 'os', 'os.version', 'variant'])
const OCI_VALUE = /^[A-Za-z0-9._+-]{0,64}$/
/** Linux PATH_MAX, in bytes: no longer path can name a file. */
export const CONTAINER_PATH_MAX = 4096
// NUL ends a path in every syscall; other control characters are no file name a client means.
const CONTROL = /[\x00-\x1f\x7f]/
/** Names that read as a container ID or short ID (docker ps shows 12 hex digits). */
const ID_LIKE_NAME = /^[0-9a-f]{12,64}$/

/** Bounds of a `filters` value: enough for any CLI or SDK use, far below the header limit. */
export const FILTER_LIMITS = { values: 64, valueLength: 512 }
// Printable ASCII and any non-ASCII text (labels may be UTF-8); no control characters.
const FILTER_VALUE = /^[^\x00-\x1f\x7f]*$/

/** httputils.BoolValue (moby api/server/httputils/form.go): these read as false, anything else as true. */
const FALSE_WORDS = new Set(['', '0', 'no', 'false', 'none'])
function boolValue (value: string): boolean {
  return !FALSE_WORDS.has(value.trim().toLowerCase())
}

function bounded (name: string, value: string, min: number, max: number): string | undefined {
  if (!INT.test(value)) return `invalid value for "${name}": expected an integer, got "${value}"`
  const n = Number(value)
  return n >= min && n <= max ? undefined : `invalid value for "${name}": expected ${min} to ${max}, got ${n}`
}

function checkValue (kind: ParamKind, name: string, value: string): string | undefined {
  switch (kind) {
    case 'bool': return value.length <= 16 ? undefined : `invalid value for "${name}": expected a boolean`
    case 'off': return boolValue(value) ? `"${name}" is not supported by this gateway` : undefined
    case 'int': return INT.test(value) ? undefined : `invalid value for "${name}": expected an integer, got "${value}"`
    // -1 is "wait for ever" (API 1.42+, daemon/stop.go); a day bounds the gateway's own header timeout.
    case 'seconds': return bounded(name, value, -1, 86400)
    case 'ttySize': return bounded(name, value, 0, 65535)
    case 'signal': return SIGNAL.test(value) ? undefined : `invalid signal "${value}"`
    case 'containerName': {
      const name = value.startsWith('/') ? value.slice(1) : value
      // The daemon's own wording for a bad name (daemon/names.go).
      if (!CONTAINER_REF.test(name)) return `Invalid container name (${value}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`
      // dockerd's GetContainer matches a full ID, then a name, then an ID
      // prefix (moby daemon/container.go): a container named like the short
      // ID of another one would answer for it to anyone (admin included) who
      // uses the short ID that docker ps shows. 12 hex digits is that short ID.
      if (ID_LIKE_NAME.test(name)) return `Invalid container name (${value}): a name of 12 to 64 hex digits would be taken for a container ID`
      return undefined
    }
    case 'psArgs': {
      const parsed = parsePsArgs(value)
      return parsed.ok ? undefined : parsed.message
    }
    case 'tail': return TAIL.test(value) ? undefined : `invalid value for "tail": expected "all" or a number, got "${value}"`
    case 'timestamp': return TIMESTAMP.test(value) ? undefined : `invalid value for "${name}": expected a timestamp or duration`
    case 'unixTime': return UNIX_TIME.test(value) ? undefined : `invalid value for "${name}": expected unix seconds with an optional fraction, such as 1700000000.5`
    case 'condition': return CONDITION.test(value) ? undefined : `invalid value for "condition": expected not-running, next-exit or removed`
    case 'platform': return PLATFORM.test(value) ? undefined : `invalid value for "platform"`
    case 'detachKeys': return DETACH_KEYS.test(value) ? undefined : `invalid value for "detachKeys"`
    case 'imageRef': return IMAGE_REF.test(value) ? undefined : `invalid reference format for "${name}"`
    case 'ociPlatform': return ociPlatform(value) === undefined ? `invalid value for "${name}": expected a JSON OCI platform such as {"os":"linux","architecture":"amd64"}` : undefined
    case 'refused':
    case 'containerPath': return containerPathProblem(name, value)
    case 'filters':
    case 'eventFilters':
    case 'pruneFilters':
    case 'imageFilters':
      return undefined
  }
}

/** A JSON OCI platform of known keys and plain values, re-serialised; undefined when it is not one. */
function ociPlatform (raw: string): string | undefined {
  let parsed: unknown
  try { parsed = JSON.parse(raw) } catch { return undefined }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
  const out: Record<string, string | string[]> = {}
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (OCI_PLATFORM_KEYS.has(key) && typeof value === 'string' && OCI_VALUE.test(value)) out[key] = value
    else if (key === 'os.features' && Array.isArray(value) && value.length <= 16 && value.every(v => typeof v === 'string' && OCI_VALUE.test(v))) out[key] = value as string[]
    else return undefined
  }
  return JSON.stringify(out)
}

function containerPathProblem (name: string, value: string): string | undefined {
  if (Buffer.byteLength(value) > CONTAINER_PATH_MAX) return `invalid value for "${name}": longer than ${CONTAINER_PATH_MAX} bytes`
  if (CONTROL.test(value)) return `invalid value for "${name}": a path in the container holds no control characters`
  return undefined
}

/** Parse and check a `filters` value: a JSON object whose keys are documented filter names (the container list's by default). */
export function parseFilters (raw: string, names: ReadonlySet<string> = CONTAINER_FILTERS): { ok: true, filters: Filters } | QueryRefused {
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
    if (!names.has(key)) {
      return { ok: false, message: `invalid filter '${key}'` }
    }
    let values: string[]
    if (Array.isArray(value)) {
      if (!value.every((v): v is string => typeof v === 'string')) {
        return { ok: false, message: `invalid filters: values of '${key}' must be strings` }
      }
      values = value
    } else if (value !== null && typeof value === 'object') {
      // Legacy form {"label": {"a=b": true}} (filters.FromJSON accepts it).
      values = []
      for (const [v, on] of Object.entries(value as Record<string, unknown>)) {
        if (typeof on !== 'boolean') return { ok: false, message: `invalid filters: values of '${key}' must be strings` }
        if (on) values.push(v)
      }
    } else {
      return { ok: false, message: `invalid filters: values of '${key}' must be a list of strings` }
    }
    if (values.length > FILTER_LIMITS.values) return { ok: false, message: `invalid filters: more than ${FILTER_LIMITS.values} values for '${key}'` }
    for (const v of values) {
      if (v.length > FILTER_LIMITS.valueLength) return { ok: false, message: `invalid filters: a value of '${key}' is longer than ${FILTER_LIMITS.valueLength} characters` }
      if (!FILTER_VALUE.test(v)) return { ok: false, message: `invalid filters: a value of '${key}' holds a control character` }
    }
    filters[key] = values
  }
  return { ok: true, filters }
}

/**
 * The query as dockerd reads it (Go's net/url parseQuery): `&`-separated,
 * `+` and percent escapes decoded, a pair with a malformed escape skipped,
 * and the first of repeated names wins, as url.Values.Get reads it.
 * Fastify's querystring parser for the whole server, so validators, hooks and
 * handlers see one value per name. (Hand-written: URLSearchParams keeps
 * malformed escapes as text.)
 */
export function parseQuery (raw: string): Record<string, string> {
  const out = new ParsedQuery()
  let start = 0
  while (start < raw.length) {
    let end = raw.indexOf('&', start)
    if (end === -1) end = raw.length
    if (end > start) {
      let eq = raw.indexOf('=', start)
      if (eq === -1 || eq > end) eq = end
      const name = unescapeQuery(raw.slice(start, eq))
      const value = eq === end ? '' : unescapeQuery(raw.slice(eq + 1, end))
      // A pair with a bad escape is skipped, as Go's parseQuery skips it.
      if (name !== undefined && value !== undefined && out[name] === undefined) out[name] = value
    }
    start = end + 1
  }
  return out
}

/**
 * The parsed query's object: nothing inherited, so `__proto__` or
 * `constructor` are names like any other (no Object.prototype above it), and
 * built by a constructor so V8 keeps it a fast object; Object.create(null)
 * made the parser 8x slower.
 */
const ParsedQuery = function ParsedQuery (): void {} as unknown as new () => Record<string, string>
ParsedQuery.prototype = Object.create(null) as Record<string, string>

/** Go's url.QueryUnescape: `+` is a space, `%XX` a byte (UTF-8); undefined when an escape is malformed. */
function unescapeQuery (s: string): string | undefined {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s
  return decodeEscapes(s.replace(/\+/g, ' '))
}

function decodeEscapes (s: string): string | undefined {
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

/** Decide every parameter of a route's query (parsed by parseQuery): forwarded normalised, or a refusal. */
export function validateQuery (route: RouteDef, query: Readonly<Record<string, string>>): QueryResult {
  const params = new Map<string, string>()
  let filters: Filters | undefined
  for (const name of route.required) {
    // Missing and empty are one refusal, in dockerd's wording (httputils.ArchiveFormValues: url.Values.Get gives "" for both).
    if (query[name] === undefined || query[name] === '') return { ok: false, message: `bad parameter: ${name} cannot be empty` }
  }
  for (const name in route.query) {
    const value = query[name]
    if (value === undefined) continue
    const kind = route.query[name] as ParamKind
    // A capability refused on purpose: the caller may not, whatever the value (403, not a malformed request).
    if (kind === 'refused') return { ok: false, status: 403, param: name, message: `"${name}" is not allowed through this gateway${REFUSED_WHY[name] ?? ''}` }
    const problem = checkValue(kind, name, value)
    if (problem !== undefined) return { ok: false, message: problem }
    if (isFilterKind(kind)) {
      const f = parseFilters(value, FILTER_NAMES[kind])
      if (!f.ok) return f
      const problem = kind === 'pruneFilters' ? pruneUntilProblem(f.filters) : undefined
      if (problem !== undefined) return { ok: false, message: problem }
      filters = f.filters
    }
    const forwarded = normalise(kind, value)
    // An empty ps_args is dockerd's default (`-ef`): nothing to forward.
    if (forwarded === undefined) continue
    params.set(name, forwarded)
  }
  const order = timeOrderProblem(route, params)
  if (order !== undefined) return { ok: false, message: order }
  const result: QueryOk = { ok: true, params }
  if (filters !== undefined) result.filters = filters
  return result
}

/**
 * prune's `until` is read by dockerd with timetypes.GetTimestamp (a unix
 * time, a date or a duration such as 10m) and only once: more than one value
 * is its error too (daemon getUntilFromPruneFilters).
 */
function pruneUntilProblem (filters: Filters): string | undefined {
  const until = filters.until ?? []
  if (until.length > 1) return 'invalid filters: more than one until filter specified'
  return until.every(v => TIMESTAMP.test(v)) ? undefined : 'invalid filters: until expects a timestamp or duration'
}

/**
 * /events: `since` after `until` is the daemon's 400 too; said here, in its
 * words, before a stream slot is taken. Compared as seconds, then the
 * fraction padded to nanoseconds, as ParseTimestamps reads them.
 */
function timeOrderProblem (route: RouteDef, params: Map<string, string>): string | undefined {
  if (route.query.since !== 'unixTime' || route.query.until !== 'unixTime') return undefined
  const since = params.get('since')
  const until = params.get('until')
  if (since === undefined || until === undefined) return undefined
  return unixNanos(until) < unixNanos(since) ? `\`since\` time (${since}) cannot be after \`until\` time (${until})` : undefined
}

function unixNanos (value: string): bigint {
  const m = UNIX_TIME.exec(value) as RegExpExecArray
  return BigInt(m[1] as string) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
}

/** What a refused parameter would have done, for its refusal message. */
const REFUSED_WHY: Readonly<Record<string, string>> = {
  fromSrc: ' (image import: the daemon would fetch a URL or read an image from the request body); pull with fromImage'
}

/** The value forwarded for a checked one: booleans as 1/0, ps_args canonical (undefined: send nothing). */
function normalise (kind: ParamKind, value: string): string | undefined {
  switch (kind) {
    case 'bool':
    case 'off':
      return boolValue(value) ? '1' : '0'
    case 'psArgs': {
      const parsed = parsePsArgs(value)
      return parsed.ok && parsed.canonical !== '' ? parsed.canonical : undefined
    }
    case 'ociPlatform': return ociPlatform(value)
    default:
      return value
  }
}

/** Re-encode validated parameters for the upstream request. */
export function encodeQuery (params: Map<string, string>, filters?: Filters): string {
  let out = ''
  for (const [name, value] of params) {
    const v = name === 'filters' && filters !== undefined ? encodeFilters(filters) : encodeURIComponent(value)
    out += (out === '' ? '?' : '&') + encodeURIComponent(name) + '=' + v
  }
  if (filters !== undefined && !params.has('filters')) {
    out += (out === '' ? '?' : '&') + 'filters=' + encodeFilters(filters)
  }
  return out
}

/**
 * A `filters` value, URL-encoded, remembered by its JSON: a principal's
 * owner filter is the same on every list call, and encoding it was most of
 * encodeQuery's cost. At most 1024 kept (then forgotten all at once).
 */
const encodedFilters = new Map<string, string>()
function encodeFilters (filters: Filters): string {
  const json = JSON.stringify(filters)
  let encoded = encodedFilters.get(json)
  if (encoded === undefined) {
    encoded = encodeURIComponent(json)
    if (encodedFilters.size >= 1024) encodedFilters.clear()
    encodedFilters.set(json, encoded)
  }
  return encoded
}

/** The upstream path: version prefix, fixed segments and the encoded target, nothing from the raw URL. */
export function buildUpstreamPath (route: RouteDef, target: string | undefined, version: string | undefined, query: string): string {
  let path = version === undefined ? '' : `/v${version}`
  for (const s of route.segments) {
    // An image name keeps its slashes (dockerd routes `/images/{name:.*}/json`); its
    // characters are all plain path characters (route-schemas.ts IMAGE_NAME).
    path += '/' + (s === ':id' || s === ':exec' ? encodeURIComponent(target ?? '') : s === ':name' ? (target ?? '') : s)
  }
  return path + query
}
