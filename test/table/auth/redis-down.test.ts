// What an unreachable Redis means for a request (config redisDown): the
// pure decisions of src/redis-down.ts, and the audit reason of the 503.
import t from 'tap'
import {
  REVOCATION_STALE_MS, RATE_LIMIT_DOWN_MESSAGE, redisDownMode, redisReadiness, revocationUnconfirmed, uncountedRequest
} from '../../../src/redis-down'
import { SYNC_INTERVAL_MS } from '../../../src/auth/revocation'
import { auditReason, redisUnavailable } from '../../../src/errors'

t.test('the mode in force', async t => {
  const cases: Array<[string | undefined, 'open' | 'closed', 'open' | 'closed']> = [
    ['redis://r:6379', 'open', 'open'],
    ['redis://r:6379', 'closed', 'closed'],
    // Without Redis nothing depends on it: the file-kept list keeps its last good copy.
    [undefined, 'closed', 'open'],
    [undefined, 'open', 'open']
  ]
  for (const [redisUrl, redisDown, want] of cases) {
    t.equal(redisDownMode({ ...(redisUrl !== undefined ? { redisUrl } : {}), redisDown }), want, `${redisUrl ?? 'no redisUrl'} + ${redisDown}`)
  }
})

t.test('a request whose counter cannot be reached', async t => {
  t.equal(uncountedRequest('open'), undefined, 'open: passes uncounted')
  t.equal(uncountedRequest('closed'), RATE_LIMIT_DOWN_MESSAGE, 'closed: refused, the message names the cause')
  t.match(RATE_LIMIT_DOWN_MESSAGE, /rate limit.*Redis does not answer.*redisDown is closed/)
})

t.test('the bound on the revocation list\'s age is 4 refresh periods (2 s)', async t => {
  t.equal(REVOCATION_STALE_MS, 4 * SYNC_INTERVAL_MS)
  t.equal(REVOCATION_STALE_MS, 2000)
})

t.test('whether the list vouches for a token', async t => {
  const cases: Array<['open' | 'closed', number | undefined, RegExp | undefined]> = [
    ['open', 0, undefined],
    ['open', 3_600_000, undefined], // open: the last list stays in force however old
    ['open', undefined, undefined],
    ['closed', 0, undefined],
    ['closed', REVOCATION_STALE_MS, undefined], // the bound itself still vouches
    ['closed', REVOCATION_STALE_MS + 1, /^cannot confirm the token is not revoked: the revocation list in Redis was last read 2 s ago \(redisDown is closed\)/],
    ['closed', 61_000, /was last read 61 s ago/],
    ['closed', undefined, /has not been read since this gateway started/]
  ]
  for (const [mode, ago, want] of cases) {
    const got = revocationUnconfirmed(mode, ago)
    if (want === undefined) t.equal(got, undefined, `${mode}, read ${String(ago)} ms ago: accepted`)
    else t.match(got, want, `${mode}, read ${String(ago)} ms ago: refused`)
  }
})

t.test('readiness follows the same bound, only in closed mode', async t => {
  t.equal(redisReadiness('open', undefined), undefined)
  t.equal(redisReadiness('open', 60_000), undefined)
  t.equal(redisReadiness('closed', 100), undefined)
  t.match(redisReadiness('closed', 5000), /^Redis does not answer: the revocation list was last read 5 s ago, and redisDown is closed/)
  t.match(redisReadiness('closed', undefined), /has not been read since this gateway started/)
})

t.test('the 503 and its audit reason', async t => {
  for (const what of ['rate limit', 'revocation list'] as const) {
    const err = redisUnavailable(what, 'm')
    t.equal(err.statusCode, 503)
    t.equal(err.code, 'DGW_REDIS_UNAVAILABLE')
    t.equal(err.message, 'm')
    t.equal(auditReason(err), `redis unavailable: ${what}`)
  }
})
