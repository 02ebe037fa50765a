import Redis from 'ioredis'

/**
 * A Redis client for state shared by gateway replicas (rate-limit counters,
 * the token revocation list). It fails fast instead of queueing commands
 * behind a reconnect: a request waits for at most one short attempt, and
 * each user decides what an unreachable Redis means for it.
 */
export function sharedRedis (url: string): Redis {
  return new Redis(url, {
    connectTimeout: 1000,
    commandTimeout: 500,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true
  })
}
