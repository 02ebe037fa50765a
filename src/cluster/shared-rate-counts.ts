import type { RateCount, RateCounted } from './messages'

/**
 * The rate-limit counters of a gateway running several workers without
 * Redis, kept by the primary. It is @fastify/rate-limit's own LocalStore, the
 * store a single process uses, so N workers count exactly as one process
 * would: the same fixed window per key, the same LRU of 5000 keys (the
 * plugin's default `cache`). Workers ask over IPC (src/cluster/ipc-rate-store.ts).
 */

interface LocalStoreApi {
  incr: (key: string, cb: (err: Error | null, res: { current: number, ttl: number }) => void, timeWindow: number, max: number) => void
}
type LocalStoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, cache?: number) => LocalStoreApi

// Not in the package's exports map or types; the path is stable since v5.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const LocalStore = require('@fastify/rate-limit/store/LocalStore') as LocalStoreCtor

export class SharedRateCounts {
  private readonly store: LocalStoreApi = new LocalStore(false, false, 5000)

  /** Count a worker's requests; LocalStore answers synchronously. */
  count (msg: RateCount): RateCounted {
    const answers: RateCounted['answers'] = []
    for (const [id, key, windowMs] of msg.counts) {
      // max only matters to LocalStore's continueExceeding and backoff, both off.
      this.store.incr(key, (_err, res) => { answers.push([id, res.current, res.ttl]) }, windowMs, 0)
    }
    return { dgw: 'rate', answers }
  }
}
