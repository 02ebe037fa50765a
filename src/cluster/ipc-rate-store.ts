import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import type { WorkerLink } from './worker-link'

/**
 * A @fastify/rate-limit store that counts in the primary (src/cluster/
 * shared-rate-counts.ts), so a limit of N requests per window is N for the
 * whole gateway, not N per worker. One IPC round trip per event-loop turn
 * of counted requests (src/cluster/worker-link.ts).
 */
export function ipcRateStore (link: WorkerLink): new () => FastifyRateLimitStore {
  return class IpcRateStore implements FastifyRateLimitStore {
    incr (key: string, callback: (error: Error | null, result?: { current: number, ttl: number }) => void, timeWindow: number): void {
      link.count(key, timeWindow, (current, ttl) => {
        if (current < 0) callback(new Error('the primary process does not answer'))
        else callback(null, { current, ttl })
      })
    }

    child (): FastifyRateLimitStore {
      return this
    }
  }
}
