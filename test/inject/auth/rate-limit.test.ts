// The per-principal rate limit, in memory: a principal's requests count
// wherever they come from, requests without valid credentials count per
// source IP (so a flood of bad tokens is throttled), the health probes are
// never limited, and a 429 carries Retry-After and a Docker-shaped body.
import t from 'tap'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { claims, hs256 } from '../../helpers/auth/tokens'
import { sleep } from '../../helpers/wait'

const PASSED = '/swarm' // authenticated, then not in the allow-list: 404

t.test('per principal, 429 with Retry-After', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_RATE_LIMIT_MAX: '3', GATEWAY_RATE_LIMIT_WINDOW: '1 minute' } })
  const alice = hs256(claims({ sub: 'alice' }))
  const bob = hs256(claims({ sub: 'bob' }))
  const call = async (token: string, url = PASSED): Promise<{ status: number, headers: Record<string, unknown>, body: any }> => {
    const res = await gw.app.inject({ url, headers: { authorization: `Bearer ${token}` } })
    return { status: res.statusCode, headers: res.headers, body: res.json() }
  }
  for (let i = 1; i <= 3; i++) t.equal((await call(alice)).status, 404, `alice #${i} passes the limit`)
  const limited = await call(alice)
  t.equal(limited.status, 429, 'alice #4: 429')
  t.match(limited.headers['content-type'], /^application\/json/)
  t.same(limited.body, { message: 'rate limit exceeded for principal "alice": 3 requests per 1m; retry in 1 minute' })
  t.match(String(limited.headers['retry-after']), /^\d+$/, 'Retry-After in seconds')
  t.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60)
  t.match(gw.audit.lines().at(-1), { principal: 'alice', decision: 'deny', reason: 'rate limit exceeded', status: 429 })

  t.equal((await call(bob)).status, 404, 'bob has his own budget')
  for (let i = 0; i < 5; i++) t.equal((await gw.app.inject({ url: '/healthz' })).statusCode, 200, 'probes are not limited')
})

t.test('requests without valid credentials count per source IP', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_RATE_LIMIT_MAX: '3' } })
  const forged = hs256(claims({ sub: 'alice' }), 'not-the-secret-0123456789abcdef0123456789')
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${forged}` } })).statusCode)
  t.same(statuses, [401, 401, 401, 429, 429], 'bad tokens: 401 until the address is over the limit, then 429')
  const noToken = await gw.app.inject({ url: PASSED })
  t.equal(noToken.statusCode, 429, 'the same address without a token: still limited')
  t.match(noToken.json(), { message: /^rate limit exceeded for address 127\.0\.0\.1: 3 requests per 1m/ })
  // The forged token named alice; her real budget is untouched.
  t.equal((await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${hs256(claims({ sub: 'alice' }))}` } })).statusCode, 404, 'alice herself is not limited by forgeries in her name')
})

t.test('the window ends', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_RATE_LIMIT_MAX: '1', GATEWAY_RATE_LIMIT_WINDOW: '1s' } })
  const token = hs256(claims())
  const call = async (): Promise<number> => (await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${token}` } })).statusCode
  t.equal(await call(), 404)
  t.equal(await call(), 429)
  await sleep(1200)
  t.equal(await call(), 404, 'a new window, a new budget')
})

t.test('max 0 turns the limit off', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_RATE_LIMIT_MAX: '0' } })
  const token = hs256(claims())
  for (let i = 0; i < 20; i++) {
    const status = (await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${token}` } })).statusCode
    if (status !== 404) { t.fail(`request ${i}: ${status}`); return }
  }
  t.pass('20 requests, none limited')
})

t.test('an unreachable Redis fails open', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_RATE_LIMIT_MAX: '1', GATEWAY_REDIS_URL: 'redis://127.0.0.1:1' } })
  const token = hs256(claims())
  const start = Date.now()
  for (let i = 0; i < 3; i++) t.equal((await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${token}` } })).statusCode, 404, `request ${i + 1} passes`)
  t.ok(Date.now() - start < 5000, 'without waiting for Redis')
  t.match(gw.logs.text, /rate limit: redis unreachable/)
})
