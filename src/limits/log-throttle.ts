/**
 * One log line per limit per interval. A limit is hit exactly when someone
 * pushes against it, possibly thousands of times a second; a line per hit
 * would turn a connection flood into a disk flood. The first hit is logged
 * at once; later hits in the same interval are only counted, and the next
 * line after the interval reports how many were not logged.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number, suppressed: number }>()

  constructor (readonly intervalMs: number, private readonly now: () => number = Date.now) {}

  /** Whether this hit of `key` is logged; if so, how many hits since the last line were not. */
  hit (key: string): { log: true, suppressed: number } | { log: false } {
    const t = this.now()
    const seen = this.last.get(key)
    if (seen !== undefined && t - seen.at < this.intervalMs) {
      seen.suppressed++
      return { log: false }
    }
    this.last.set(key, { at: t, suppressed: 0 })
    return { log: true, suppressed: seen?.suppressed ?? 0 }
  }
}

export interface WarnLogger {
  warn: (obj: Record<string, unknown>, msg: string) => void
}

/** The gateway's limit log: `hit('per-address', {...}, 'message')` writes at most one warn line per key and interval. */
export class LimitLog {
  private readonly throttle: LogThrottle

  constructor (private readonly logger: () => WarnLogger | undefined, intervalMs: number, now?: () => number) {
    this.throttle = new LogThrottle(intervalMs, now)
  }

  hit (limit: string, fields: Record<string, unknown>, message: string): void {
    const d = this.throttle.hit(limit)
    if (!d.log) return
    const extra = d.suppressed > 0 ? { suppressed: d.suppressed } : {}
    this.logger()?.warn({ limit, ...fields, ...extra, logIntervalMs: this.throttle.intervalMs }, message)
  }
}
