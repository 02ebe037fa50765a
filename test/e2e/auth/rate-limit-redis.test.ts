// Two gateway processes with GATEWAY_REDIS_URL share one limit: a principal
// that spreads its calls over both replicas still gets `max` per window.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { request } from 'undici'
import { requireRedis } from '../../helpers/env'
import { freePort } from '../../helpers/net'
import { startCli } from '../../helpers/auth/cli'
import { NO_UPSTREAM } from '../../helpers/auth/gateway'
import { claims, hs256, SECRET } from '../../helpers/auth/tokens'

const redis = requireRedis(t)

if (redis !== undefined) {
  t.test('two replicas, one counter', async t => {
    const common = {
      GATEWAY_TLS: 'off',
      GATEWAY_JWT_SECRET: SECRET,
      GATEWAY_UPSTREAM: NO_UPSTREAM,
      GATEWAY_REDIS_URL: redis,
      GATEWAY_RATE_LIMIT_MAX: '4',
      GATEWAY_RATE_LIMIT_WINDOW: '1m',
      GATEWAY_LOG_LEVEL: 'warn'
    }
    const [a, b] = await Promise.all([0, 1].map(async () => await startCli(t, {
      ...common,
      GATEWAY_LISTEN: `127.0.0.1:${await freePort()}`,
      GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), 'dgw-rl-'))
    })))
    const sub = `replicated-${randomBytes(4).toString('hex')}`
    const token = hs256(claims({ sub }))
    const call = async (url: string): Promise<number> => {
      const res = await request(`${url}/swarm`, { headers: { authorization: `Bearer ${token}` } })
      await res.body.dump()
      return res.statusCode
    }
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push(await call(i % 2 === 0 ? (a as { url: string }).url : (b as { url: string }).url))
    t.same(statuses, [404, 404, 404, 404, 429, 429], 'alternating replicas: the 5th call overall is the first refused')

    const other = hs256(claims({ sub: `${sub}-other` }))
    const res = await request(`${(b as { url: string }).url}/swarm`, { headers: { authorization: `Bearer ${other}` } })
    await res.body.dump()
    t.equal(res.statusCode, 404, 'another principal is not affected')
  })
}
