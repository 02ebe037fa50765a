import { availableParallelism } from 'node:os'

/**
 * How many worker processes `docker-gateway start` runs (`workers`,
 * GATEWAY_WORKERS). One Node process serves on one core; `auto` runs one
 * worker per core the process may use (os.availableParallelism(), which
 * counts the CPU affinity mask, so `taskset -c 0` means one), as HAProxy's
 * nbthread defaults to the cores it is bound to. `1` runs the gateway in a
 * single process, with no primary in front of it.
 */
export function workerCount (setting: 'auto' | number, cores: number = availableParallelism()): number {
  if (setting === 'auto') return Math.max(1, cores)
  return setting
}
