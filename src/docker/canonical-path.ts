import { ALL_HOSTS, HOST_NAME } from './names'

/**
 * The one canonical spelling of a request path, checked on the raw URL before
 * routing.
 *
 * dockerd routes on the percent-decoded path (gorilla/mux matches URL.Path),
 * cleans `//`, `/./` and `/../` with a redirect, and reads a version prefix
 * numerically (`/v01.043/` is 1.43). find-my-way, fastify's router, decodes
 * parameters too (`%2F` in an `:id` becomes `/`). A gateway that read the
 * raw string differently from the daemon could be steered: `/containers%2Fcreate`
 * is create to the daemon. So only canonical paths reach the router, and the
 * upstream path is rebuilt from the routed parts, never from the client's bytes.
 */

export interface PathRefusal { status: 400 | 404, message: string }

const VERSION = /^v1\.(0|[1-9][0-9]{0,3})$/
/** What reads as a version prefix at all (dockerd's router: `/v{version:[0-9.]+}`). */
const VERSION_LIKE = /^v[0-9.]+$/

/** undefined when the path is canonical; else the refusal. (One pass over the characters: it runs on every request.) */
export function checkCanonicalPath (rawUrl: string): PathRefusal | undefined {
  const q = rawUrl.indexOf('?')
  const end = q === -1 ? rawUrl.length : q
  if (rawUrl.lastIndexOf('%', end - 1) !== -1) {
    // No gateway path needs an escape: names, ids, host names and versions
    // are all plain ASCII. An escape can only hide a '/' or a dot-segment.
    return { status: 400, message: 'invalid request path: percent-encoded characters are not allowed' }
  }
  // Only origin-form targets (RFC 9112 §3.2.1): fastify's router would strip
  // `http://host` from an absolute-form one and route the rest, unchecked.
  // Docker clients never send one (a proxy's, not a server's, form).
  if (rawUrl.charCodeAt(0) !== 47 /* / */) return { status: 400, message: 'invalid request target: send a path, not a URL' }
  if (end === 1) return undefined // `/`: the router's 404
  // Each segment: not empty, not `.` or `..`.
  let start = 1
  for (let i = 1; i <= end; i++) {
    if (i < end && rawUrl.charCodeAt(i) !== 47) continue
    const length = i - start
    if (length === 0 || (length <= 2 && rawUrl.charCodeAt(start) === 46 /* . */ && (length === 1 || rawUrl.charCodeAt(start + 1) === 46))) {
      return { status: 400, message: 'invalid request path: empty or dot segments are not allowed' }
    }
    start = i + 1
  }
  // The prefixes, only where the path has them.
  let version = 1
  if (rawUrl.startsWith('/hosts/')) {
    const nameEnd = rawUrl.indexOf('/', 7)
    if (nameEnd === -1 || nameEnd >= end) return undefined // `/hosts/{name}` alone: a route or the router's 404
    const name = rawUrl.slice(7, nameEnd)
    if (name !== ALL_HOSTS && !HOST_NAME.test(name)) return { status: 400, message: `invalid host name "${name}"` }
    version = nameEnd + 1
  }
  if (rawUrl.charCodeAt(version) !== 118 /* v */) return undefined
  const versionEnd = rawUrl.indexOf('/', version)
  if (versionEnd === -1 || versionEnd >= end) return undefined // the last segment: not a prefix
  const segment = rawUrl.slice(version, versionEnd)
  if (VERSION_LIKE.test(segment) && !VERSION.test(segment)) {
    return { status: 400, message: `invalid API version "${segment}": use the form v1.N` }
  }
  return undefined
}
