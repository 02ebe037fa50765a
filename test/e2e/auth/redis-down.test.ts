// Redis down (config redisDown), on the real app in front of the real daemon
// with a redis-server of the test's own, killed (connections refused) or
// stopped (hung) under it:
//  - open: requests pass uncounted, a revoked token stays refused (the last
//    list read), /readyz stays ready, one warning;
//  - closed: counted requests get 503 naming the cause, a token with a jti
//    is 503 once the list is older than 2 s (a revoked one stays 401), and
//    /readyz says not ready; /healthz answers throughout;
//  - both: when Redis is back, counting resumes without a restart.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { request } from 'undici'
import { requireDaemon, requireRedis } from '../../helpers/env'
import { startAuthGateway, type AuthGateway } from '../../helpers/auth/gateway'
import { ownRedis, type OwnRedis } from '../../helpers/auth/own-redis'
import { claims, hs256 } from '../../helpers/auth/tokens'
import { revokeRoute, tokenWithJti } from '../../helpers/auth/revocation'
import { sleep, waitFor } from '../../helpers/wait'
import { RATE_LIMIT_DOWN_MESSAGE, REVOCATION_STALE_MS } from '../../../src/redis-down'

const d = requireDaemon(t)
const harnessRedis = requireRedis(t)
const MAX = 3
const ADMIN = hs256(claims({ sub: 'root', scope: 'admin' }))

interface Answer { status: number, contentType: string | undefined, body: string }

async function get (gw: AuthGateway, path: string, token?: string): Promise<Answer> {
  const res = await request(`${gw.url}${path}`, token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {})
  const body = await res.body.text()
  return { status: res.statusCode, contentType: res.headers['content-type'] as string | undefined, body }
}

/** A token of a principal of its own (a fresh rate-limit budget). */
const fresh = (): string => hs256(claims({ sub: `p-${randomBytes(4).toString('hex')}` }))

/** True when a principal's MAX+1-th call is a 429: the counters are in use. */
async function counting (gw: AuthGateway): Promise<boolean> {
  const token = fresh()
  const statuses: number[] = []
  for (let i = 0; i <= MAX; i++) statuses.push((await get(gw, '/_ping', token)).status)
  return statuses.slice(0, MAX).every(s => s === 200) && statuses[MAX] === 429
}

async function gateway (t: { teardown: (fn: () => unknown) => void }, redis: OwnRedis, mode: 'open' | 'closed', max = MAX): Promise<AuthGateway> {
  return await startAuthGateway(t, {
    env: {
      GATEWAY_UPSTREAM: (d as { url: string }).url,
      GATEWAY_REDIS_URL: redis.url,
      GATEWAY_REDIS_DOWN: mode,
      GATEWAY_RATE_LIMIT_MAX: String(max),
      GATEWAY_RATE_LIMIT_WINDOW: '1m',
      GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), 'dgw-redis-down-'))
    }
  })
}

const lastAudit = (gw: AuthGateway): Record<string, any> | undefined => gw.audit.lines().at(-1)
const warnings = (gw: AuthGateway, text: string): number => gw.logs.lines().filter(l => typeof l.msg === 'string' && l.msg.includes(text)).length

if (d !== undefined && harnessRedis !== undefined) {
  t.test('open, Redis killed: requests pass uncounted; back: counting resumes', async t => {
    const redis = await ownRedis(t)
    const gw = await gateway(t, redis, 'open')
    t.ok(await counting(gw), 'with Redis: the 4th call of a principal is a 429')

    redis.kill()
    const token = fresh()
    const statuses: number[] = []
    for (let i = 0; i < 2 * MAX; i++) statuses.push((await get(gw, '/_ping', token)).status)
    t.same(statuses, Array(2 * MAX).fill(200), `${2 * MAX} calls of one principal all reach the daemon`)
    t.match(lastAudit(gw), { principal: /^p-/, decision: 'allow', status: 200, route: 'GET /_ping' }, 'audited as allowed')
    t.equal(lastAudit(gw)?.reason, undefined)
    t.equal(warnings(gw, 'rate limit: redis unreachable; requests are not being counted until it answers'), 1, 'one warning (throttled)')
    t.equal((await get(gw, '/readyz')).status, 200, 'open: still ready')

    await redis.restart()
    await waitFor(async () => await counting(gw), 10_000)
    t.pass('counting again, same gateway process')
  })

  t.test('open, Redis hung (SIGSTOP): requests pass after the client\'s 500 ms', async t => {
    const redis = await ownRedis(t)
    const gw = await gateway(t, redis, 'open')
    t.equal((await get(gw, '/_ping', fresh())).status, 200)
    redis.pause()
    const start = Date.now()
    const res = await get(gw, '/_ping', fresh())
    const ms = Date.now() - start
    t.equal(res.status, 200, 'passes')
    t.ok(ms >= 400 && ms < 3000, `after waiting for Redis (${ms} ms)`)
    redis.resume()
    await waitFor(async () => await counting(gw), 10_000)
    t.pass('counting again after SIGCONT')
  })

  t.test('closed, Redis killed: 503 naming the cause, not ready; back: served and counted', async t => {
    const redis = await ownRedis(t)
    const gw = await gateway(t, redis, 'closed')
    t.ok(await counting(gw), 'with Redis: counted')
    t.equal((await get(gw, '/readyz')).status, 200, 'ready')

    redis.kill()
    const refused = await get(gw, '/_ping', fresh())
    t.equal(refused.status, 503)
    t.equal(refused.contentType, 'application/json')
    t.same(JSON.parse(refused.body), { message: RATE_LIMIT_DOWN_MESSAGE })
    t.match(lastAudit(gw), { principal: /^p-/, decision: 'deny', status: 503, reason: 'redis unavailable: rate limit' })
    const anonymous = await get(gw, '/_ping')
    t.equal(anonymous.status, 503, 'a request without a token is counted per address: refused too')
    t.match(lastAudit(gw), { decision: 'deny', status: 503 })
    t.equal(warnings(gw, 'rate limit: redis unreachable; requests are refused (redisDown: closed) until it answers'), 1, 'one warning (throttled)')

    t.equal((await get(gw, '/healthz')).status, 200, '/healthz answers')
    const notReady = await waitFor(async () => { const r = await get(gw, '/readyz'); return r.status === 503 ? r : undefined }, REVOCATION_STALE_MS + 3000)
    t.match(JSON.parse(notReady.body), { message: /^Redis does not answer: the revocation list was last read \d+ s ago, and redisDown is closed/ }, '/readyz: not ready, and why')

    await redis.restart()
    await waitFor(async () => (await get(gw, '/_ping', fresh())).status === 200, 10_000)
    t.ok(await counting(gw), 'served and counted again, same gateway process')
    await waitFor(async () => (await get(gw, '/readyz')).status === 200, 5000)
    t.pass('ready again')
  })

  t.test('closed, Redis hung (SIGSTOP): 503 after the client\'s 500 ms; SIGCONT: served', async t => {
    const redis = await ownRedis(t)
    const gw = await gateway(t, redis, 'closed')
    t.equal((await get(gw, '/_ping', fresh())).status, 200)
    redis.pause()
    const start = Date.now()
    const res = await get(gw, '/_ping', fresh())
    const ms = Date.now() - start
    t.equal(res.status, 503)
    t.same(JSON.parse(res.body), { message: RATE_LIMIT_DOWN_MESSAGE })
    t.ok(ms >= 400 && ms < 3000, `refused after waiting for Redis (${ms} ms)`)
    t.match(lastAudit(gw), { decision: 'deny', status: 503, reason: 'redis unavailable: rate limit' })
    redis.resume()
    await waitFor(async () => (await get(gw, '/_ping', fresh())).status === 200, 10_000)
    t.ok(await counting(gw), 'counted again')
  })

  t.test('open, Redis down: a revoked token stays refused (the last list read), others pass', async t => {
    const redis = await ownRedis(t)
    const gw = await gateway(t, redis, 'open')
    const revoked = tokenWithJti({ sub: 'mallory' })
    const other = tokenWithJti({ sub: 'olive' })
    t.equal((await get(gw, '/_ping', revoked.token)).status, 200, 'accepted (and cached) before')
    t.equal((await revokeRoute(gw.app, ADMIN, { token: revoked.token })).status, 201)
    t.equal((await get(gw, '/_ping', revoked.token)).status, 401)

    redis.kill()
    // Past the bound closed mode uses: the list has surely failed to refresh.
    await waitFor(() => warnings(gw, 'token revocation: cannot read') > 0, 5000)
    await sleep(REVOCATION_STALE_MS + 500)
    const res = await get(gw, '/_ping', revoked.token)
    t.equal(res.status, 401, 'the revoked token: still 401')
    t.same(JSON.parse(res.body), { message: 'invalid token: the token has been revoked' })
    t.match(lastAudit(gw), { decision: 'deny', status: 401, reason: 'token revoked' })
    t.equal((await get(gw, '/_ping', other.token)).status, 200, 'a token not on the list passes')
    t.match(gw.logs.text, /token revocation: cannot read redis:\/\/127\.0\.0\.1:\d+\/?; the last list read stays in force/)
  })

  t.test('closed, rate limit off, Redis down: a token with a jti is 503 once the list is stale; revoked stays 401', async t => {
    const redis = await ownRedis(t)
    // max 0: no counter, so the revocation list is the only thing asked of Redis.
    const gw = await gateway(t, redis, 'closed', 0)
    const revoked = tokenWithJti({ sub: 'mallory' })
    const good = tokenWithJti({ sub: 'gina' })
    const noJti = hs256(claims({ sub: 'nojti' }))
    t.equal((await get(gw, '/_ping', good.token)).status, 200)
    t.equal((await revokeRoute(gw.app, ADMIN, { token: revoked.token })).status, 201)

    redis.kill()
    const killedAt = Date.now()
    const refused = await waitFor(async () => { const r = await get(gw, '/_ping', good.token); return r.status === 503 ? r : undefined }, REVOCATION_STALE_MS + 3000)
    const after = Date.now() - killedAt
    t.ok(after >= REVOCATION_STALE_MS - 600, `accepted until the list was stale (refused after ${after} ms)`)
    t.equal(refused.contentType, 'application/json')
    t.match(JSON.parse(refused.body), { message: /^cannot confirm the token is not revoked: the revocation list in Redis was last read \d+ s ago \(redisDown is closed\); try again later$/ })
    t.match(lastAudit(gw), { decision: 'deny', status: 503, reason: 'redis unavailable: revocation list' })
    t.equal(lastAudit(gw)?.principal, undefined, 'no principal: the token was not accepted')
    t.equal((await get(gw, '/_ping', revoked.token)).status, 401, 'a token the last list names: 401, not 503')
    t.equal((await get(gw, '/_ping', noJti)).status, 200, 'a token without a jti cannot be revoked: nothing to confirm')
    t.equal((await get(gw, '/readyz')).status, 503, 'not ready')

    await redis.restart()
    await waitFor(async () => (await get(gw, '/_ping', good.token)).status === 200, 10_000)
    t.equal((await get(gw, '/readyz')).status, 200, 'ready again')
  })
}

if (d !== undefined) {
  t.test('closed, Redis unreachable from the start: the gateway starts, refuses, and is not ready', async t => {
    const gw = await startAuthGateway(t, {
      env: { GATEWAY_UPSTREAM: d.url, GATEWAY_REDIS_URL: 'redis://127.0.0.1:1', GATEWAY_REDIS_DOWN: 'closed', GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), 'dgw-redis-down-')) }
    })
    const res = await get(gw, '/_ping', fresh())
    t.equal(res.status, 503)
    t.same(JSON.parse(res.body), { message: RATE_LIMIT_DOWN_MESSAGE })
    t.equal((await get(gw, '/healthz')).status, 200)
    const ready = await get(gw, '/readyz')
    t.equal(ready.status, 503)
    t.match(JSON.parse(ready.body), { message: /the revocation list has not been read since this gateway started/ })
  })
}
