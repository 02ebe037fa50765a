// POST /tokens/revoke: admin only (403 naming the scope otherwise, 401
// without a valid token), Docker-shaped 400s for bodies that name no
// revocable token, what was stored in the answer, and a 503 that says the
// token was NOT revoked when the list cannot be written.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { b64url, claims, hs256, now } from '../../helpers/auth/tokens'
import { waitFor } from '../../helpers/wait'
import { revokeRoute, statusOf, tokenWithJti } from '../../helpers/auth/revocation'

const ADMIN = hs256(claims({ sub: 'root', scope: 'admin' }))
const dataDir = (): string => mkdtempSync(join(tmpdir(), 'dgw-revoke-route-'))

t.test('only admins may revoke', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dataDir() } })
  const victim = tokenWithJti({ sub: 'alice' })
  const writer = hs256(claims({ sub: 'mallory', scope: 'containers:read containers:write containers:export containers:exec' }))
  const r = await revokeRoute(gw.app, writer, { jti: victim.jti })
  t.equal(r.status, 403)
  t.same(r.json, { message: 'token lacks the scope "admin" needed for POST /tokens/revoke' })
  t.match(gw.audit.lines().find(l => l.route === 'POST /tokens/revoke'), { principal: 'mallory', decision: 'deny', reason: 'missing scope admin', status: 403 })

  const anonymous = await gw.app.inject({ method: 'POST', url: '/tokens/revoke', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ jti: victim.jti }) })
  t.equal(anonymous.statusCode, 401)
  t.equal(await statusOf(gw.app, victim.token), 404, 'nothing was revoked')

  const revokedAdmin = tokenWithJti({ sub: 'ex-admin', scope: 'admin' })
  t.equal((await revokeRoute(gw.app, ADMIN, { token: revokedAdmin.token })).status, 201)
  const again = await revokeRoute(gw.app, revokedAdmin.token, { jti: victim.jti })
  t.equal(again.status, 401, 'a revoked admin token revokes nothing more')
  t.equal(await statusOf(gw.app, victim.token), 404)
})

t.test('answers with what was stored', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dataDir() } })
  const exp = now() + 600
  const r = await revokeRoute(gw.app, ADMIN, { jti: 'job-42', exp })
  t.equal(r.status, 201)
  t.same(r.json, { jti: 'job-42', exp, expires: new Date(exp * 1000).toISOString(), stored: true })

  const shorter = await revokeRoute(gw.app, ADMIN, { jti: 'job-42', exp: exp - 300 })
  t.equal(shorter.json.exp, exp, 'revoking again never shortens an entry')

  const bare = await revokeRoute(gw.app, ADMIN, { jti: 'no-exp-known' })
  t.equal(bare.status, 201)
  t.ok(Math.abs(bare.json.exp - (now() + 366 * 86400)) < 30, 'a bare jti is kept for 366 days, the longest token lifetime')

  const expired = await revokeRoute(gw.app, ADMIN, { jti: 'old', exp: now() - 10 })
  t.equal(expired.status, 200)
  t.match(expired.json, { jti: 'old', stored: false, note: /already expired/ })
})

t.test('bad bodies are Docker-shaped 400s', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dataDir() } })
  const cases: Array<[string, unknown, RegExp]> = [
    ['not JSON', '{"jti":', /^request body is not valid JSON/],
    ['an array', '["abc"]', /must be a JSON object/],
    ['neither jti nor token', {}, /^jti or token is required$/],
    ['an unknown field', { jti: 'a', sub: 'alice' }, /^unknown field sub/],
    ['an empty jti', { jti: '' }, /^jti must be a string of 1 to 256/],
    ['a jti with a space', { jti: 'a b' }, /^jti must be/],
    ['a numeric jti', { jti: 7 }, /^jti must be/],
    ['exp as a string', { jti: 'a', exp: '1700000000' }, /^exp must be the token's expiry in Unix seconds/],
    ['exp in milliseconds past year 9999', { jti: 'a', exp: Date.now() * 1000 }, /^exp must be/],
    ['token and jti', { token: 'a.b.c', jti: 'a' }, /either token, or jti/],
    ['not a JWT', { token: 'hello' }, /not a JWT/],
    ['a JWT whose payload is not JSON', { token: `${b64url({ alg: 'HS256' })}.${b64url('nope')}.sig` }, /payload is not JSON/]
  ]
  for (const [name, body, message] of cases) {
    const r = await revokeRoute(gw.app, ADMIN, body)
    t.equal(r.status, 400, `${name}: 400`)
    t.match(r.json, { message }, `${name}: ${String(r.json.message)}`)
  }
  const none = await gw.app.inject({ method: 'POST', url: '/tokens/revoke', headers: { authorization: `Bearer ${ADMIN}` } })
  t.equal(none.statusCode, 400)
  t.match(none.json(), { message: /request body is required/ })
  const form = await gw.app.inject({ method: 'POST', url: '/tokens/revoke', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'jti=a' })
  t.equal(form.statusCode, 415)
  t.same(form.json(), { message: 'Content-Type must be application/json' })
})

t.test('a list that cannot be written: 503, and the token still works', async t => {
  const dir = dataDir()
  const gw = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dir } })
  // The data folder is replaced by a file while the gateway runs.
  rmSync(dir, { recursive: true })
  writeFileSync(dir, 'x')
  const tok = tokenWithJti()
  const r = await revokeRoute(gw.app, ADMIN, { token: tok.token })
  t.equal(r.status, 503)
  t.match(r.json.message, /^the token was NOT revoked: the revocation list \(.*revoked-tokens\.json\) cannot be written/)
  t.equal(await statusOf(gw.app, tok.token), 404)
  await waitFor(() => /token revocation: cannot read .*revoked-tokens\.json; the last list read stays in force/.test(gw.logs.text), 3000)
  t.pass('the failing sync is logged')
})

t.test('with Redis unreachable the gateway starts, and a revoke is a 503', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_REDIS_URL: 'redis://127.0.0.1:1', GATEWAY_RATE_LIMIT_MAX: '0' } })
  const tok = tokenWithJti()
  const r = await revokeRoute(gw.app, ADMIN, { token: tok.token })
  t.equal(r.status, 503)
  t.match(r.json.message, /^the token was NOT revoked: the revocation list \(redis:\/\/127\.0\.0\.1:1\/?\) cannot be written/)
  t.match(gw.logs.text, /token revocation: cannot read redis:\/\/127\.0\.0\.1:1/)
})
