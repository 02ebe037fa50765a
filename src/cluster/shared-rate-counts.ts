import type { RateCount, RateCounted } from './messages'

/**
 * The rate-limit counters of a gateway running several workers without
 * Redis, kept by the primary. It is @fastify/rate-limit's own LocalStore, the
 * store a single process uses, so N workers count exactly as one process
 * would: the same fixed window per key, the same LRU of 5000 keys (the
 * plugin's default `cache`). Workers ask over IPC (src/cluster/ipc-rate-store.ts).
 */

interface LocalStore {
  incr: (key: string, cb: (err: Error | null, res: { current: number, ttl: number }) => void, timeWindow: number, max: number) => void
}
type LocalStoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, cache?: number) => LocalStore

// Not in the package's exports map or types; the path is stable since v5.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const LocalStoreClass = require('@fastify/rate-limit/store/LocalStore') as LocalStoreCtor

export class SharedRateCounts {
  private readonly store: LocalStore = new LocalStoreClass(false, false, 5000)

  /** Count one request; the answer is ready synchronously (LocalStore calls back at once). */
  count (msg: RateCount): RateCounted {
    let answer: RateCounted = { dgw: 'rate', id: msg.id, current: 0, ttl: 0 }
    // max only matters to LocalStore's continueExceeding and backoff, both off.
    this.store.incr(msg.key, (_err, res) => { answer = { dgw: 'rate', id: msg.id, current: res.current, ttl: res.ttl } }, msg.windowMs, 0)
    return answer
  }
}
