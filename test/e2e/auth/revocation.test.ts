// Token revocation with the data-folder store (no Redis): a revoked token is
// a 401 that says so, cached or not, on this gateway at once and on another
// gateway using the same folder within about a second; the principal's other
// tokens and tokens without a jti keep working; the command revokes into the
// file a running gateway reads; entries leave the file once their token expired.
import t from 'tap'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { claims, hs256, now } from '../../helpers/auth/tokens'
import { msUntilRefused, revokeRoute, statusOf, tokenWithJti } from '../../helpers/auth/revocation'
import { runCli } from '../../helpers/auth/cli'
import { REVOCATION_FILE } from '../../../src/auth/revocation-file'

const ADMIN = hs256(claims({ sub: 'root', scope: 'admin' }))
const dataDir = (): string => mkdtempSync(join(tmpdir(), 'dgw-revoke-'))
const revokedJtis = (dir: string): string[] => Object.keys((JSON.parse(readFileSync(join(dir, REVOCATION_FILE), 'utf8')) as { revoked: object }).revoked)

t.test('a revoked token is a 401 that says so; the same principal\'s other token still works', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dataDir() } })
  const alice1 = tokenWithJti({ sub: 'alice', scope: 'containers:read' })
  const alice2 = tokenWithJti({ sub: 'alice', scope: 'containers:read' })
  t.equal(await statusOf(gw.app, alice1.token), 404, 'accepted before (and now in the verified-token cache)')

  const r = await revokeRoute(gw.app, ADMIN, { token: alice1.token })
  t.equal(r.status, 201)
  t.equal(r.json.jti, alice1.jti)

  const res = await gw.app.inject({ url: '/containers/json', headers: { authorization: `Bearer ${alice1.token}` } })
  t.equal(res.statusCode, 401, 'refused at once on the gateway that revoked it, though cached')
  t.same(res.json(), { message: 'invalid token: the token has been revoked' })
  t.equal(res.headers['www-authenticate'], 'Bearer realm="docker-gateway", error="invalid_token", error_description="the token has been revoked"')
  const line = gw.audit.lines().find(l => l.path === '/containers/json' && l.status === 401)
  t.match(line, { decision: 'deny', reason: 'token revoked', auth: 'jwt' }, 'audit reason')

  t.equal(await statusOf(gw.app, alice2.token), 404, 'alice\'s other token is not affected')
})

t.test('tokens without a jti keep working and cannot be revoked by themselves', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dataDir() } })
  const plain = hs256(claims({ sub: 'idp-user' }))
  t.equal(await statusOf(gw.app, plain), 404)
  const r = await revokeRoute(gw.app, ADMIN, { token: plain })
  t.equal(r.status, 400)
  t.match(r.json.message, /no jti claim/)
  t.equal(await statusOf(gw.app, plain), 404, 'still accepted')
})

t.test('a jti claim that is not a string is refused (it could never be revoked)', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dataDir() } })
  const res = await gw.app.inject({ url: '/not-a-docker-path', headers: { authorization: `Bearer ${hs256(claims({ jti: 42 }))}` } })
  t.equal(res.statusCode, 401)
  t.same(res.json(), { message: 'invalid token: the jti claim must be a non-empty string' })
})

t.test('two gateways on one data folder: revoked on one, refused on the other within a second', async t => {
  const dir = dataDir()
  const a = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dir } })
  const b = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dir } })
  const tok = tokenWithJti({ sub: 'bob' })
  t.equal(await statusOf(b.app, tok.token), 404, 'cached on b')
  t.equal((await revokeRoute(a.app, ADMIN, { jti: tok.jti, exp: now() + 3600 })).status, 201)
  const ms = await msUntilRefused(b.app, tok.token)
  t.ok(ms < 1500, `refused on the other gateway after ${ms} ms`)
})

t.test('docker-gateway token revoke, while a gateway runs on the same folder', async t => {
  const dir = dataDir()
  const gw = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dir } })
  const byJti = tokenWithJti({ sub: 'carol' })
  const byToken = tokenWithJti({ sub: 'carol' })
  t.equal(await statusOf(gw.app, byJti.token), 404)
  t.equal(await statusOf(gw.app, byToken.token), 404)

  const env = { GATEWAY_UPSTREAM: 'tcp://127.0.0.1:9', GATEWAY_DATA_DIR: dir }
  const cli = runCli(['token', 'revoke', byJti.jti], env)
  t.equal(await cli.exited, 0, cli.stderr())
  const ms = await msUntilRefused(gw.app, byJti.token)
  t.ok(ms < 1500, `refused ${ms} ms after the command exited`)
  const printed = JSON.parse(cli.stdout()) as Record<string, any>
  t.match(printed, { jti: byJti.jti, stored: true })
  t.ok(Math.abs(printed.exp - (now() + 366 * 86400)) < 30, 'a bare jti is kept for 366 days')
  t.match(cli.stderr(), new RegExp(`revoked jti ${byJti.jti} until .*${REVOCATION_FILE}`))

  const cli2 = runCli(['token', 'revoke', byToken.token], env)
  t.equal(await cli2.exited, 0, cli2.stderr())
  const printed2 = JSON.parse(cli2.stdout()) as Record<string, any>
  t.match(printed2, { jti: byToken.jti, stored: true })
  t.ok(Math.abs(printed2.exp - (now() + 3600)) < 30, 'a whole token: until its own exp')
  await msUntilRefused(gw.app, byToken.token)
  t.same(revokedJtis(dir).sort(), [byJti.jti, byToken.jti].sort(), 'both in the file')
})

t.test('entries leave the file once their token has expired', async t => {
  const dir = dataDir()
  const gw = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dir } })
  t.equal((await revokeRoute(gw.app, ADMIN, { jti: 'short-lived', exp: now() + 1 })).status, 201)
  t.same(revokedJtis(dir), ['short-lived'])
  await new Promise(resolve => setTimeout(resolve, 2100))
  t.equal((await revokeRoute(gw.app, ADMIN, { jti: 'later', exp: now() + 3600 })).status, 201)
  t.same(revokedJtis(dir), ['later'], 'the expired entry was dropped at the next write')
})

t.test('concurrent revokes on two gateways sharing the folder lose none', async t => {
  const dir = dataDir()
  const a = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dir } })
  const b = await startAuthGateway(t, { env: { GATEWAY_DATA_DIR: dir } })
  const jtis = Array.from({ length: 20 }, (_, i) => `parallel-${i}`)
  const answers = await Promise.all(jtis.map(async (jti, i) => await revokeRoute((i % 2 === 0 ? a : b).app, ADMIN, { jti, exp: now() + 600 })))
  t.same(answers.map(r => r.status), jtis.map(() => 201))
  t.same(revokedJtis(dir).sort(), [...jtis].sort(), 'every entry is in the file (the writers take turns)')
})
