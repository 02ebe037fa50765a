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

/** undefined when the path is canonical; else the refusal. */
export function checkCanonicalPath (rawUrl: string): PathRefusal | undefined {
  const q = rawUrl.indexOf('?')
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q)
  if (path.includes('%')) {
    // No gateway path needs an escape: names, ids, host names and versions
    // are all plain ASCII. An escape can only hide a '/' or a dot-segment.
    return { status: 400, message: 'invalid request path: percent-encoded characters are not allowed' }
  }
  if (path.charCodeAt(0) !== 47 /* / */ || path === '/') return undefined // the router's 404
  const segments = path.split('/')
  segments.shift()
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') {
      return { status: 400, message: 'invalid request path: empty or dot segments are not allowed' }
    }
  }
  let i = 0
  if (segments[0] === 'hosts' && segments.length > 2) {
    const name = segments[1] as string
    if (name !== ALL_HOSTS && !HOST_NAME.test(name)) return { status: 400, message: `invalid host name "${name}"` }
    i = 2
  }
  const version = segments[i]
  if (version !== undefined && segments.length > i + 1 && VERSION_LIKE.test(version) && !VERSION.test(version)) {
    return { status: 400, message: `invalid API version "${version}": use the form v1.N` }
  }
  return undefined
}
