import createError from '@fastify/error'

/**
 * Every error the gateway itself produces, named by its cause. Each one is
 * answered as Docker answers its own errors, a JSON object `{"message": "..."}`
 * (Docker Engine API, "Errors": "The API uses standard HTTP status codes ...
 * and a JSON object with a message"), so scripts written against dockerd keep
 * working; the audit line's `reason` is derived from the code (auditReason).
 */

/** A gateway error; `detail` is what the audit reason names besides the code (a scope, a rule). */
export type GatewayError = Error & { code: string, statusCode: number, detail?: string }

function withDetail<E extends Error> (err: E, detail: string): E {
  (err as unknown as GatewayError).detail = detail
  return err
}

// The allow-list and the request's shape.
export const PageNotFound = createError('DGW_PAGE_NOT_FOUND', 'page not found', 404)
export const PathNotCanonical = createError('DGW_PATH_NOT_CANONICAL', '%s', 400)
export const VersionUnsupported = createError('DGW_VERSION_UNSUPPORTED', '%s', 400)
export const QueryInvalid = createError('DGW_QUERY_INVALID', '%s', 400)
export const BodyInvalid = createError('DGW_BODY_INVALID', '%s', 400)
export const MediaTypeUnsupported = createError('DGW_MEDIA_TYPE', '%s', 415)
export const PayloadTooLarge = createError('DGW_PAYLOAD_TOO_LARGE', 'request body is larger than %s bytes', 413)
/**
 * A docker cp upload over limits.archiveUploadBytes. Refused before anything
 * is sent when its Content-Length says so; otherwise cut where it passes the
 * limit, which fails the daemon's extraction (the daemon answers nothing to a
 * body that ends mid-stream), so the message says what may have been written.
 */
export const ArchiveTooLarge = createError('DGW_ARCHIVE_TOO_LARGE', 'the archive is larger than limits.archiveUploadBytes (%s bytes)%s', 413)
export const ArchiveCompressed = createError('DGW_ARCHIVE_COMPRESSED', 'compressed archives are not accepted: send a plain tar (the daemon would decompress it on its host, beyond limits.archiveUploadBytes)', 415)
/** docker cp refused for this daemon (src/docker/docker-cp.ts: config dockerCp, the daemon's version). */
export const DockerCpRefused = createError('DGW_DOCKER_CP_REFUSED', '%s', 403)
export const NoSuchExec = createError('DGW_NO_SUCH_EXEC', 'No such exec instance: %s', 404)
export const RequestTimeout = createError('DGW_REQUEST_TIMEOUT', 'request timed out', 408)
/** An upgrade handler was asked for the socket of a request that did not ask for an upgrade (a gateway bug). */
export const NotAnUpgrade = createError('DGW_NOT_AN_UPGRADE', 'this request did not ask for a connection upgrade', 400)

// Who may do it.
export const Unauthorized = createError('DGW_UNAUTHORIZED', '%s', 401)
/** The identity provider's keys cannot be fetched: not the client's fault. */
export const AuthUnavailable = createError('DGW_AUTH_UNAVAILABLE', '%s', 503)
const ScopeMissingError = createError('DGW_SCOPE_MISSING', 'token lacks the scope "%s" needed for %s', 403)
export function scopeMissing (scope: string, what: string): GatewayError {
  return withDetail(new ScopeMissingError(scope, what), scope) as GatewayError
}
const PolicyDeniedError = createError('DGW_POLICY_DENIED', '%s', 403)
const PolicyInvalidError = createError('DGW_POLICY_INVALID', '%s', 400)
/** A body the policy refused: 403 for a rule, 400 for a shape it cannot judge. */
export function policyDenied (status: 400 | 403, rule: string, message: string): GatewayError {
  return withDetail(status === 403 ? new PolicyDeniedError(message) : new PolicyInvalidError(message), rule) as GatewayError
}
const ContainerRefDeniedError = createError('DGW_CONTAINER_REF_DENIED', 'policy denied: %s names container "%s", which you do not own (rule: container-ref)', 403)
export function containerRefDenied (field: string, ref: string): GatewayError {
  return withDetail(new ContainerRefDeniedError(field, ref), field) as GatewayError
}
const NotOwnerError = createError('DGW_NOT_OWNER', '%s', 404)
/** Another principal's container or exec, answered with the daemon's own 404 wording. */
export function notOwner (what: 'container' | 'exec', message: string): GatewayError {
  return withDetail(new NotOwnerError(message), what) as GatewayError
}
const VolumeDeniedError = createError('DGW_VOLUME_DENIED', '%s', 403)
/** A named volume that is another principal's (src/ownership/volumes.ts); `reason` is the claim's audit reason. */
export function volumeDenied (message: string, reason: string): GatewayError {
  return withDetail(new VolumeDeniedError(message), reason) as GatewayError
}
const FilterDeniedError = createError('DGW_FILTER_DENIED', '%s', 404)
/** A list filter (`before`, `since`) naming a container the caller does not own, answered as the daemon's 404. */
export function filterDenied (message: string): GatewayError {
  return new FilterDeniedError(message) as GatewayError
}

/** A non-admin's events filter naming a type other than container (src/ownership/events.ts). */
export const EventTypeDenied = createError('DGW_EVENT_TYPE_DENIED', '%s', 403)
const ParamRefusedError = createError('DGW_PARAM_REFUSED', '%s', 403)
/** A query parameter for a capability the gateway does not give (kind `refused`: a pull's `fromSrc`, image import). */
export function paramRefused (name: string, message: string): GatewayError {
  return withDetail(new ParamRefusedError(message), name) as GatewayError
}

// How much.
export const RateLimited = createError('DGW_RATE_LIMITED', '%s', 429)
export const ConnectionsExceeded = createError('DGW_CONNECTIONS_EXCEEDED', '%s', 429)
export const StreamsExceeded = createError('DGW_STREAMS_EXCEEDED', '%s', 429)
/** Shared state (the revocation list) cannot be written: nothing was done. */
export const StoreUnavailable = createError('DGW_STORE_UNAVAILABLE', '%s', 503)
const RedisUnavailableError = createError('DGW_REDIS_UNAVAILABLE', '%s', 503)
/**
 * With `redisDown: closed`, a request that cannot be checked against what
 * Redis holds (`what`: the rate-limit counter, the revocation list) while
 * Redis does not answer: refused, not waved through (src/redis-down.ts).
 */
export function redisUnavailable (what: 'rate limit' | 'revocation list', message: string): GatewayError {
  return withDetail(new RedisUnavailableError(message), what) as GatewayError
}

// Which daemon.
export const HostForbidden = createError('DGW_HOST_FORBIDDEN', '%s', 403)
export const HostUnknown = createError('DGW_HOST_UNKNOWN', '%s', 404)
export const CircuitOpen = createError('DGW_CIRCUIT_OPEN', '%s', 503)

// The daemon's side.
export const UpstreamUnreachable = createError('DGW_UPSTREAM_UNREACHABLE', '%s', 502)
export const UpstreamTimeout = createError('DGW_UPSTREAM_TIMEOUT', '%s', 504)
const TopRefusedError = createError('DGW_TOP_REFUSED', 'the daemon\'s top answer for these ps_args lists processes that are not provably this container\'s; refused by the gateway', 502)
export function topRefused (why: string): GatewayError {
  return withDetail(new TopRefusedError(), why) as GatewayError
}

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

/**
 * The audit line's `reason` for an error, from its code: operators grep these
 * (docs/operations.md), so they stay short and stable; for codes not listed
 * the message is the reason.
 */
const REASONS: Readonly<Record<string, (err: GatewayError) => string>> = {
  DGW_PAGE_NOT_FOUND: () => 'not in allow-list',
  DGW_NO_SUCH_EXEC: () => 'not in allow-list',
  DGW_SCOPE_MISSING: (e) => `missing scope ${e.detail ?? ''}`,
  DGW_POLICY_DENIED: (e) => `policy: ${e.detail ?? ''}`,
  DGW_POLICY_INVALID: (e) => `policy: ${e.detail ?? ''}`,
  DGW_CONTAINER_REF_DENIED: (e) => `policy: container-ref ${e.detail ?? ''}`,
  DGW_NOT_OWNER: (e) => `not owner or no such ${e.detail ?? 'container'}`,
  DGW_CIRCUIT_OPEN: () => 'circuit open',
  DGW_TOP_REFUSED: (e) => `top answer refused: ${e.detail ?? ''}`,
  DGW_DAEMON_ANSWER: (e) => e.statusCode === 404 ? e.message : `resolve failed (${e.statusCode})`,
  DGW_VOLUME_DENIED: (e) => e.detail ?? 'volume',
  DGW_FILTER_DENIED: () => 'filter names a container the caller does not own',
  DGW_EVENT_TYPE_DENIED: () => 'event type other than container',
  DGW_DOCKER_CP_REFUSED: () => 'docker cp refused for this daemon',
  DGW_PARAM_REFUSED: (e) => `refused parameter ${e.detail ?? ''}`,
  DGW_RATE_LIMITED: () => 'rate limit exceeded',
  DGW_CONNECTIONS_EXCEEDED: () => 'limit: connections per principal',
  DGW_STREAMS_EXCEEDED: () => 'limit: streams per principal',
  DGW_REDIS_UNAVAILABLE: (e) => `redis unavailable: ${e.detail ?? ''}`
}

export function auditReason (err: Error & { code?: string }): string {
  const derive = err.code !== undefined ? REASONS[err.code] : undefined
  return derive !== undefined ? derive(err as GatewayError) : err.message
}

/**
 * Docker's error body, serialised here and sent as bytes: fastify appends
 * `; charset=utf-8` to any JSON type it sends an object or a string under,
 * never to a Buffer, and the Go client reads the message only from a body
 * whose type is exactly `application/json` (client/request.go checkResponseErr).
 */
export function dockerErrorBody (message: string): Buffer {
  return Buffer.from(dockerErrorJson(message))
}

export function dockerErrorJson (message: string): string {
  return JSON.stringify({ message })
}

/**
 * A whole HTTP/1.1 error response with Docker's body, for the places that
 * answer on a bare socket (a request Node's parser refused, an upgrade the
 * daemon never answered): the connection closes after it.
 */
export function dockerErrorResponse (status: number, statusText: string, message: string): string {
  const body = dockerErrorJson(message)
  return `HTTP/1.1 ${status} ${statusText}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
}
