import createError from '@fastify/error'

/**
 * Every error the gateway itself produces. Each one is answered as Docker
 * answers its own errors, a JSON object `{"message": "..."}` (Docker Engine
 * API, "Errors": "The API uses standard HTTP status codes ... and a JSON
 * object with a message"), so scripts written against dockerd keep working.
 */
export const PageNotFound = createError('DGW_PAGE_NOT_FOUND', 'page not found', 404)
export const BadRequest = createError('DGW_BAD_REQUEST', '%s', 400)
export const Unauthorized = createError('DGW_UNAUTHORIZED', '%s', 401)
export const Forbidden = createError('DGW_FORBIDDEN', '%s', 403)
export const NoSuchContainer = createError('DGW_NO_SUCH_CONTAINER', 'No such container: %s', 404)
export const NotFound = createError('DGW_NOT_FOUND', '%s', 404)
export const PayloadTooLarge = createError('DGW_PAYLOAD_TOO_LARGE', 'request body is larger than %s bytes', 413)
export const UnsupportedMediaType = createError('DGW_UNSUPPORTED_MEDIA_TYPE', '%s', 415)
export const TooManyRequests = createError('DGW_TOO_MANY_REQUESTS', '%s', 429)
/** Shared state (the revocation list) cannot be written: nothing was done. */
export const StoreUnavailable = createError('DGW_STORE_UNAVAILABLE', '%s', 503)
export const UpstreamUnreachable = createError('DGW_UPSTREAM_UNREACHABLE', '%s', 502)
export const UpstreamUnavailable = createError('DGW_UPSTREAM_UNAVAILABLE', '%s', 503)
export const UpstreamTimeout = createError('DGW_UPSTREAM_TIMEOUT', '%s', 504)

/** Map an undici/socket failure to the status a Docker client should see. */
export function upstreamError (err: NodeJS.ErrnoException, hostName: string): Error & { statusCode: number } {
  const code = err.code ?? ''
  // Timeouts waiting for the daemon are 504 (RFC 9110 §15.6.5); everything
  // else that stops us from reaching it is 502 (RFC 9110 §15.6.3).
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return new UpstreamTimeout(`Docker daemon "${hostName}" did not answer in time (${code})`)
  }
  return new UpstreamUnreachable(`cannot reach Docker daemon "${hostName}": ${code !== '' ? code : err.message}`)
}

const DaemonAnswer = createError('DGW_DAEMON_ANSWER', '%s', 500)

/** An error carrying a status decided elsewhere (e.g. the daemon's answer to a lookup), in Docker's shape. */
export function statusError (status: number, message: string): Error & { statusCode: number } {
  const err = new DaemonAnswer(message) as Error & { statusCode: number }
  err.statusCode = status
  return err
}
