// Token revocation with Redis (redisUrl): gateways sharing one Redis refuse a
// token revoked on any of them, or by the `token revoke` command, within
// about a second, cached or not; entries leave Redis once their token expired.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Redis from 'ioredis'
import { requireRedis } from '../../helpers/env'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { claims, hs256, now } from '../../helpers/auth/tokens'
import { msUntilRefused, revokeRoute, statusOf, tokenWithJti } from '../../helpers/auth/revocation'
import { runCli } from '../../helpers/auth/cli'
import { REVOKED_KEY } from '../../../src/auth/revocation-redis'

const redis = requireRedis(t)
const ADMIN = hs256(claims({ sub: 'root', scope: 'admin' }))

if (redis !== undefined) {
  // Each gateway gets a data folder of its own: only Redis is shared.
  const env = (): Record<string, string> => ({ GATEWAY_REDIS_URL: redis, GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), 'dgw-revoke-redis-')) })

  t.test('revoked on one gateway, refused on the other within a second', async t => {
    const [a, b] = await Promise.all([startAuthGateway(t, { env: env() }), startAuthGateway(t, { env: env() })])
    const tok = tokenWithJti({ sub: 'dave' })
    const other = tokenWithJti({ sub: 'dave' })
    t.equal(await statusOf(b.app, tok.token), 404, 'accepted (and cached) on b')
    const r = await revokeRoute(a.app, ADMIN, { token: tok.token })
    t.equal(r.status, 201)
    t.equal(await statusOf(a.app, tok.token), 401, 'refused at once on a')
    const ms = await msUntilRefused(b.app, tok.token)
    t.ok(ms < 1500, `refused on b after ${ms} ms`)
    t.equal(await statusOf(b.app, other.token), 404, 'dave\'s other token still works')
  })

  t.test('docker-gateway token revoke writes to the Redis the gateways read', async t => {
    const [a, b] = await Promise.all([startAuthGateway(t, { env: env() }), startAuthGateway(t, { env: env() })])
    const tok = tokenWithJti({ sub: 'erin' })
    t.equal(await statusOf(a.app, tok.token), 404)
    t.equal(await statusOf(b.app, tok.token), 404)
    const cli = runCli(['token', 'revoke', tok.jti], { ...env(), GATEWAY_UPSTREAM: 'tcp://127.0.0.1:9' })
    t.equal(await cli.exited, 0, cli.stderr())
    t.match(cli.stderr(), `revoked jti ${tok.jti} until`)
    t.match(cli.stderr(), redis)
    const [ma, mb] = await Promise.all([msUntilRefused(a.app, tok.token), msUntilRefused(b.app, tok.token)])
    t.ok(ma < 1500 && mb < 1500, `refused on both gateways (after ${ma} and ${mb} ms)`)
  })

  t.test('entries leave Redis once their token has expired', async t => {
    const gw = await startAuthGateway(t, { env: env() })
    const client = new Redis(redis)
    t.teardown(async () => { await client.quit() })
    const short = tokenWithJti().jti
    t.equal((await revokeRoute(gw.app, ADMIN, { jti: short, exp: now() + 1 })).status, 201)
    t.ok(await client.zscore(REVOKED_KEY, short), 'stored')
    await new Promise(resolve => setTimeout(resolve, 2100))
    const later = tokenWithJti().jti
    t.equal((await revokeRoute(gw.app, ADMIN, { jti: later, exp: now() + 3600 })).status, 201)
    t.equal(await client.zscore(REVOKED_KEY, short), null, 'the expired entry was trimmed at the next write')
    t.equal(Number(await client.zscore(REVOKED_KEY, later)), now() + 3600)
  })
}
