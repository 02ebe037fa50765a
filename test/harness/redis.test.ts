// The run's private redis-server answers (rate-limit tests share it).
import t from 'tap'
import Redis from 'ioredis'
import { requireRedis } from '../helpers/env'

const url = requireRedis(t)
if (url) {
  t.test('redis answers PING and stores keys', async t => {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    t.teardown(() => { redis.disconnect() })
    await redis.connect()
    t.equal(await redis.ping(), 'PONG')
    const key = `dgw-test-${process.pid}`
    await redis.set(key, '1', 'EX', 10)
    t.equal(await redis.get(key), '1')
  })
}
