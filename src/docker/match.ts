import { routes, type RouteDef } from './routes'

/**
 * Turns the raw request target into a validated route, or a refusal.
 *
 * dockerd routes on the percent-decoded path (gorilla/mux matches URL.Path),
 * cleans `//`, `/./` and `/../` with a redirect, and reads a version prefix
 * numerically (`/v01.043/` is 1.43). A gateway that matched the raw string
 * differently from the daemon could be steered: `/containers%2Fcreate` is
 * create to the daemon. So this module accepts only the one canonical
 * spelling of each path and the caller rebuilds the upstream path from the
 * parts returned here, never from the client's bytes.
 */

export interface ApiVersion { major: number, minor: number }

export interface VersionRange {
  min: ApiVersion
  /** Unset: the daemon decides what is too new. */
  max?: ApiVersion
}

export interface Matched {
  ok: true
  route: RouteDef
  /** Host name from a `/hosts/{name}` prefix, if any. */
  host?: string
  /** Canonical `1.N`, if the client used a version prefix. */
  version?: string
  /** Container name/id or exec id from the path, validated. */
  target?: string
  /** The raw query string, without '?' ('' if none). */
  rawQuery: string
}

export interface Refused {
  ok: false
  status: 400 | 404
  message: string
}

export type MatchResult = Matched | Refused

/** A host name as in the config file's `hosts:` keys (RFC 1123 label, lower case). */
export const HOST_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/
/** The fleet pseudo-host `_all` that fans a list out to every host. */
export const ALL_HOSTS = '_all'
/**
 * Container reference: a name as the daemon validates names
 * (daemon/names.go `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`, without the slash in a
 * path segment) or an id or id prefix, which is hex and matches too.
 */
export const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/
/** Exec ids are 64 hex characters (daemon/exec.go uses stringid.GenerateRandomID). */
export const EXEC_ID = /^[a-f0-9]{64}$/
const VERSION = /^v1\.(0|[1-9][0-9]{0,3})$/
const NON_CANONICAL_VERSION = /^v[0-9.]+$/

const PAGE_NOT_FOUND: Refused = { ok: false, status: 404, message: 'page not found' }

// Index routes by their first segment so a lookup scans a handful of entries.
const byHead = new Map<string, RouteDef[]>()
for (const r of routes) {
  const head = r.segments[0] ?? ''
  const list = byHead.get(head) ?? []
  list.push(r)
  byHead.set(head, list)
}

export function parseVersion (s: string): ApiVersion | undefined {
  const m = /^1\.(0|[1-9][0-9]{0,3})$/.exec(s)
  return m === null ? undefined : { major: 1, minor: Number(m[1]) }
}

export function compareVersions (a: ApiVersion, b: ApiVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor
}

export function matchRequest (method: string, rawUrl: string, range: VersionRange, allowHostPrefix = true): MatchResult {
  const q = rawUrl.indexOf('?')
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q)
  const rawQuery = q === -1 ? '' : rawUrl.slice(q + 1)

  if (path.charCodeAt(0) !== 47 /* / */ || path === '/') return PAGE_NOT_FOUND
  if (path.includes('%')) {
    // No mirrored path needs an escape: names, ids, host names and versions
    // are all plain ASCII. An escape can only hide a '/' or a dot-segment.
    return { ok: false, status: 400, message: 'invalid request path: percent-encoded characters are not allowed' }
  }
  const segments = path.split('/')
  segments.shift()
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') {
      return { ok: false, status: 400, message: 'invalid request path: empty or dot segments are not allowed' }
    }
  }

  let i = 0
  let host: string | undefined
  if (allowHostPrefix && segments[0] === 'hosts' && segments.length > 2) {
    const name = segments[1] as string
    if (name !== ALL_HOSTS && !HOST_NAME.test(name)) {
      return { ok: false, status: 400, message: `invalid host name "${name}"` }
    }
    host = name
    i = 2
  }

  let version: string | undefined
  const maybeVersion = segments[i]
  if (maybeVersion !== undefined && maybeVersion.charCodeAt(0) === 118 /* v */ && NON_CANONICAL_VERSION.test(maybeVersion)) {
    if (!VERSION.test(maybeVersion)) {
      return { ok: false, status: 400, message: `invalid API version "${maybeVersion}": use the form v1.N` }
    }
    const v = parseVersion(maybeVersion.slice(1)) as ApiVersion
    if (compareVersions(v, range.min) < 0) {
      // The daemon's own wording (daemon/server/middleware/version.go).
      return { ok: false, status: 400, message: `client version ${maybeVersion.slice(1)} is too old. Minimum supported API version is ${range.min.major}.${range.min.minor}, please upgrade your client to a newer version` }
    }
    if (range.max !== undefined && compareVersions(v, range.max) > 0) {
      return { ok: false, status: 400, message: `client version ${maybeVersion.slice(1)} is too new. Maximum supported API version is ${range.max.major}.${range.max.minor}` }
    }
    version = `${v.major}.${v.minor}`
    i++
  }

  const rest = i === 0 ? segments : segments.slice(i)
  const candidates = byHead.get(rest[0] ?? '')
  if (candidates === undefined) return PAGE_NOT_FOUND

  for (const r of candidates) {
    if (r.segments.length !== rest.length) continue
    let target: string | undefined
    let fits = true
    for (let k = 0; k < rest.length; k++) {
      const want = r.segments[k] as string
      const got = rest[k] as string
      if (want === ':id' || want === ':exec') {
        target = got
      } else if (want !== got) {
        fits = false
        break
      }
    }
    if (!fits) continue
    if (r.method !== method) continue
    if (target !== undefined) {
      if (r.target === 'exec' && !EXEC_ID.test(target)) {
        return { ok: false, status: 404, message: `No such exec instance: ${target}` }
      }
      if (r.target === 'container' && !CONTAINER_REF.test(target)) {
        return { ok: false, status: 400, message: `invalid container name or ID "${target}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed` }
      }
    }
    const m: Matched = { ok: true, route: r, rawQuery }
    if (host !== undefined) m.host = host
    if (version !== undefined) m.version = version
    if (target !== undefined) m.target = target
    return m
  }
  // A known path with another method is still "page not found" for dockerd (not 405).
  return PAGE_NOT_FOUND
}
