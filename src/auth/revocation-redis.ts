import type Redis from 'ioredis'
import { sharedRedis } from '../redis'
import type { Revocation, RevocationStore, RevokedEntries } from './revocation'

/**
 * The revocation list in Redis (`redisUrl` set), shared by every replica and
 * by `docker-gateway token revoke`: a sorted set of jtis scored by their exp,
 * and a counter bumped on every change. A gateway polls the counter (one GET)
 * and reads the set only when the counter moved; entries past their exp are
 * trimmed on every write and never read.
 */

export const REVOKED_KEY = 'docker-gateway:revoked'
export const VERSION_KEY = 'docker-gateway:revoked:version'

export class RedisRevocationStore implements RevocationStore {
  readonly where: string
  private readonly redis: Redis
  private seen: string | null | undefined

  constructor (url: string) {
    this.redis = sharedRedis(url)
    // Failures surface as rejected commands, which RevocationList reports (throttled).
    this.redis.on('error', () => {})
    const u = new URL(url)
    u.username = ''
    u.password = ''
    this.where = u.toString()
  }

  async load (nowMs: number): Promise<RevokedEntries | undefined> {
    await this.connect()
    const version = await this.redis.get(VERSION_KEY)
    if (this.seen !== undefined && version === this.seen) return undefined
    const flat = await this.redis.zrangebyscore(REVOKED_KEY, `(${Math.floor(nowMs / 1000)}`, '+inf', 'WITHSCORES')
    const entries: RevokedEntries = new Map()
    for (let i = 0; i + 1 < flat.length; i += 2) entries.set(flat[i] as string, Number(flat[i + 1]))
    this.seen = version
    return entries
  }

  async add (entry: Revocation, nowMs: number): Promise<Revocation> {
    await this.connect()
    const result = await this.redis.multi()
      .zremrangebyscore(REVOKED_KEY, '-inf', Math.floor(nowMs / 1000))
      // GT: a second revoke of the same jti never shortens the first.
      .zadd(REVOKED_KEY, 'GT', entry.exp, entry.jti)
      .zscore(REVOKED_KEY, entry.jti)
      .incr(VERSION_KEY)
      .exec()
    const failed = result?.find(([err]) => err !== null)
    if (result === null || failed !== undefined) throw failed?.[0] ?? new Error('redis: the revocation transaction was aborted')
    return { jti: entry.jti, exp: Number(result[2]?.[1]) }
  }

  async close (): Promise<void> {
    await this.redis.quit().catch(() => { this.redis.disconnect() })
  }

  private async connect (): Promise<void> {
    // lazyConnect: the first use connects; after that ioredis reconnects by itself.
    if (this.redis.status === 'wait') await this.redis.connect()
  }
}
