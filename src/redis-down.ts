import type { Config } from './config/schema'
import { SYNC_INTERVAL_MS } from './auth/revocation'

/**
 * What a Redis that does not answer means for a request (config `redisDown`,
 * docs/scale-out.md). Two things live in Redis when `redisUrl` is set: the
 * rate-limit counters and the token revocation list. Authentication, scopes,
 * policy and ownership never depend on it.
 *
 * - `open`: a request whose counter cannot be reached passes uncounted; the
 *   revocation list last read stays in force (revoked tokens stay refused).
 * - `closed`: such a request is refused with a 503, and so is a token with a
 *   jti once the list was last read more than REVOCATION_STALE_MS ago: the
 *   gateway does not accept what it cannot check. /readyz then says not
 *   ready, so a load balancer drains the replica while Redis is away.
 *
 * The wiring is in plugins/rate-limit.ts, plugins/auth.ts, plugins/health.ts.
 */

export type RedisDownMode = Config['redisDown']

/**
 * The mode in force: without `redisUrl` nothing depends on Redis, and the
 * file-kept revocation list keeps its own rule (the last good copy stays).
 */
export function redisDownMode (config: Pick<Config, 'redisUrl' | 'redisDown'>): RedisDownMode {
  return config.redisUrl !== undefined ? config.redisDown : 'open'
}

/**
 * How old the last read of the revocation list may be before, in closed
 * mode, it no longer confirms a token is not revoked: 4 refresh periods
 * (2 s). One or two missed reads (a slow answer, a busy event loop) are
 * tolerated; a Redis that is gone is noticed within 2 s, and a token revoked
 * on another replica is refused here within that bound even during an outage.
 */
export const REVOCATION_STALE_MS = 4 * SYNC_INTERVAL_MS

/** The client's message when a request cannot be counted (closed mode). */
export const RATE_LIMIT_DOWN_MESSAGE =
  'the gateway cannot count this request against its rate limit: its Redis does not answer (redisDown is closed, so uncounted requests are refused); try again later'

/**
 * A rate-limit counter could not be read or bumped: `undefined` lets the
 * request pass uncounted (open), a message refuses it with a 503 (closed).
 */
export function uncountedRequest (mode: RedisDownMode): string | undefined {
  return mode === 'closed' ? RATE_LIMIT_DOWN_MESSAGE : undefined
}

function lastRead (readAgoMs: number | undefined): string {
  return readAgoMs === undefined ? 'has not been read since this gateway started' : `was last read ${Math.round(readAgoMs / 1000)} s ago`
}

/**
 * Whether a token not on the list may be accepted, given how long ago the
 * list was last read (undefined: never). `undefined` accepts; a message
 * refuses with a 503. A token on the list is refused (401) before this is
 * asked: revocations only add up, so an old list that names it is still right.
 */
export function revocationUnconfirmed (mode: RedisDownMode, readAgoMs: number | undefined): string | undefined {
  if (mode === 'open') return undefined
  if (readAgoMs !== undefined && readAgoMs <= REVOCATION_STALE_MS) return undefined
  return `cannot confirm the token is not revoked: the revocation list in Redis ${lastRead(readAgoMs)} (redisDown is closed); try again later`
}

/** /readyz: `undefined` when Redis does not keep this replica from serving, else why it does. */
export function redisReadiness (mode: RedisDownMode, readAgoMs: number | undefined): string | undefined {
  if (revocationUnconfirmed(mode, readAgoMs) === undefined) return undefined
  return `Redis does not answer: the revocation list ${lastRead(readAgoMs)}, and redisDown is closed (requests are refused until it answers)`
}
