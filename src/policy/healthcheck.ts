import { numAt, objAt, type Obj } from './body'
import type { Violation } from './types'

/**
 * `Healthcheck` timings (rule `healthcheck`). dockerd runs each check as an
 * exec in the container (daemon/health.go): every check starts a process,
 * through containerd and runc, on the host. dockerd's own floor is 1 ms
 * (container.MinimumDuration), so one container could make the host spawn a
 * thousand runc execs a second. Non-zero durations below one second are
 * refused (0 keeps dockerd's default: 30 s interval and timeout, 5 s start
 * interval); Retries is bounded, since it only delays "unhealthy". `Test`
 * runs inside the caller's own container and is forwarded as is.
 */

/** nanoseconds: the shortest interval, timeout or start period/interval a tenant may ask for. */
export const MIN_HEALTH_DURATION_NS = 1e9
export const MAX_HEALTH_RETRIES = 100

const DURATIONS = ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const

export function checkHealthcheck (body: Obj): Violation[] {
  const hc = objAt(body, 'Healthcheck')
  if (hc === undefined) return []
  const out: Violation[] = []
  for (const key of DURATIONS) {
    const v = numAt(hc, key) ?? 0
    if (v !== 0 && v < MIN_HEALTH_DURATION_NS) {
      const field = `Healthcheck.${key}`
      out.push({ rule: 'healthcheck', field, message: `${field}=${v} ns is not allowed (0 for the daemon's default, else at least ${MIN_HEALTH_DURATION_NS} ns = 1s: each check starts a process on the host)` })
    }
  }
  const retries = numAt(hc, 'Retries') ?? 0
  if (retries < 0 || retries > MAX_HEALTH_RETRIES) {
    out.push({ rule: 'healthcheck', field: 'Healthcheck.Retries', message: `Healthcheck.Retries=${retries} is not allowed (0 to ${MAX_HEALTH_RETRIES})` })
  }
  return out
}
