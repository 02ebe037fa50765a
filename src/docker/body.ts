import type { FastifyRequest } from 'fastify'
import type { RouteDef } from './routes'
import { BodyInvalid, MediaTypeUnsupported } from '../errors'

/**
 * Decides, before anything is forwarded, whether a request may carry a body
 * and in which form. The body that a later step vets is the only body the
 * daemon ever gets: it is re-serialised from what was read, with its own
 * Content-Length, whatever framing (chunked, oversized, mislabelled) the
 * client used.
 */

export type BodyCheck =
  | { ok: true, raw?: string }
  | { ok: false, status: 400 | 415, message: string }

/** `application/json`, any case, with or without parameters such as charset. */
export function isJsonContentType (value: string | undefined): boolean {
  if (value === undefined) return false
  const semi = value.indexOf(';')
  const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase()
  if (type !== 'application/json') return false
  if (semi === -1) return true
  // RFC 8259 §11: JSON has no charset parameter, but utf-8 is what senders mean by it.
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(value.slice(semi))
  return charset === null || (charset[1] as string).toLowerCase() === 'utf-8' || (charset[1] as string).toLowerCase() === 'utf8'
}

export function hasBody (request: FastifyRequest): boolean {
  const len = request.headers['content-length']
  return request.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0')
}

export function checkBody (route: RouteDef, request: FastifyRequest): BodyCheck {
  const present = hasBody(request)
  if (route.body === 'none') {
    if (!present) return { ok: true }
    // docker-modem (dockerode) repeats a POST's options as a JSON body next
    // to the query: stop?t=1 with {"t":1}, attach?stream=1... with
    // {"stream":true,...}, wait, kill, rename, resize. The daemon's handlers
    // for these routes read only the query (httputils.ParseForm reads form
    // bodies, never JSON), so such a body is read (bounded by bodyLimit) and
    // dropped: it is never forwarded, exactly as the daemon would ignore it.
    if (route.id !== 'container.start' && isJsonContentType(request.headers['content-type'])) return { ok: true }
    // A form body would override query parameters (Go's ParseForm), and API
    // < 1.24 reads a HostConfig from a /start body (later APIs refuse it):
    // a body here could carry what the query validation never saw.
    return { ok: false, status: 400, message: `${route.template.split(' ')[1] as string} takes no request body` }
  }
  if (route.body === 'tar') {
    // Never read here: the tar streams to the daemon (src/upstream/upload.ts).
    return present ? { ok: true } : { ok: false, status: 400, message: 'request body is required (a tar archive)' }
  }
  if (!present) {
    // exec start and update may be sent empty by some clients; create may not.
    return route.body === 'create' || route.body === 'exec'
      ? { ok: false, status: 400, message: 'request body is required (a JSON object)' }
      : { ok: true }
  }
  return jsonBodyText(request)
}

/** A body that is present and must be JSON: its text, or why it is refused. */
export function jsonBodyText (request: FastifyRequest): BodyCheck {
  if (!isJsonContentType(request.headers['content-type'])) {
    return { ok: false, status: 415, message: 'Content-Type must be application/json' }
  }
  const buf = request.body
  if (!Buffer.isBuffer(buf) || buf.length === 0) {
    return { ok: false, status: 400, message: 'request body is required (a JSON object)' }
  }
  let raw: string
  try {
    raw = new TextDecoder('utf-8', { fatal: true }).decode(buf)
  } catch {
    return { ok: false, status: 400, message: 'request body is not valid UTF-8' }
  }
  return { ok: true, raw }
}

/** The Docker-shaped error for a refused body. */
export function bodyError (check: Extract<BodyCheck, { ok: false }>): Error {
  return check.status === 415 ? new MediaTypeUnsupported(check.message) : new BodyInvalid(check.message)
}
