/**
 * A circuit breaker per Docker host (Nygard, "Release It!", ch. 5; the
 * closed/open/half-open machine as in Martin Fowler's "CircuitBreaker").
 *
 * Why: a daemon that is down answers a connect with ECONNREFUSED at once,
 * but a daemon that hangs (stuck in a storage driver, SIGSTOPped, a
 * black-holed route) accepts the TCP connection and never answers, so every
 * call would wait for the full headers timeout (60 s by default) and tie up
 * a pool connection. Once the host is known to be bad, calls fail fast with
 * 503 instead, and the host is tried again by a single probe.
 *
 * Only transport failures count (connect refused/timeout, reset, headers
 * timeout): a 4xx/5xx answer from the daemon means the daemon is alive.
 *
 * Pure: time comes in through `now`, so the table tests drive it.
 */

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  /** Consecutive transport failures that open the circuit. */
  failureThreshold: number
  /** How long an open circuit refuses calls before one probe call is let through. */
  halfOpenAfterMs: number
}

export type Admission =
  | { ok: true, probe: boolean }
  | { ok: false, reason: string, retryAfterMs: number }

export class CircuitBreaker {
  private readonly opts: BreakerOptions
  private readonly now: () => number
  private _state: BreakerState = 'closed'
  private failures = 0
  private openedAt = 0
  private nextProbeAt = 0
  private _reason = ''

  constructor (opts: BreakerOptions, now: () => number = Date.now) {
    this.opts = opts
    this.now = now
  }

  get state (): BreakerState { return this._state }
  /** Consecutive transport failures seen while closed. */
  get consecutiveFailures (): number { return this.failures }
  /** Why the circuit opened (last failure), '' while closed. */
  get reason (): string { return this._reason }

  /** May a call go to the host now? An open circuit lets one probe through per halfOpenAfterMs. */
  admit (): Admission {
    if (this._state === 'closed') return { ok: true, probe: false }
    const t = this.now()
    if (t >= this.nextProbeAt) {
      // Half-open: this call is the probe. If its outcome never comes back
      // (client hung up), the next window admits another probe, so a lost
      // probe cannot keep the circuit open forever.
      this._state = 'half-open'
      this.nextProbeAt = t + this.opts.halfOpenAfterMs
      return { ok: true, probe: true }
    }
    return { ok: false, reason: this._reason, retryAfterMs: this.nextProbeAt - t }
  }

  /** The daemon answered (any HTTP status). */
  onSuccess (): void {
    this.failures = 0
    this._state = 'closed'
    this._reason = ''
  }

  /** A transport failure talking to the daemon. */
  onFailure (reason: string): void {
    if (this._state === 'closed') {
      this.failures++
      if (this.failures < this.opts.failureThreshold) return
    }
    this.trip(reason)
  }

  /** Open at once (the health check says the daemon is down). */
  trip (reason: string): void {
    const t = this.now()
    if (this._state === 'closed') this.openedAt = t
    this._state = 'open'
    this._reason = reason
    this.nextProbeAt = t + this.opts.halfOpenAfterMs
  }

  /** When the circuit last opened (epoch ms), 0 if never. */
  get since (): number { return this.openedAt }
}
