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
/** What one breaker tells the others of the same host (onEvent, mirror). */
export type BreakerEvent = 'failure' | 'success' | 'trip'

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
  /**
   * Told of what this breaker learns: a failure, a success after failures, a
   * trip by the health check. The workers of one gateway share it (src/cluster),
   * each applying the others' news with mirror(), so `failureThreshold`
   * consecutive failures open the circuit in every worker, as in one process,
   * not after that many in each.
   */
  onEvent: ((event: BreakerEvent, reason: string) => void) | undefined

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
    // Only news when something was failing: a success per call would be a message per call.
    const news = this._state !== 'closed' || this.failures > 0
    this.close()
    if (news) this.onEvent?.('success', '')
  }

  private close (): void {
    this.failures = 0
    this._state = 'closed'
    this._reason = ''
  }

  /** A transport failure talking to the daemon. */
  onFailure (reason: string): void {
    this.fail(reason)
    this.onEvent?.('failure', reason)
  }

  private fail (reason: string): void {
    if (this._state === 'closed') {
      this.failures++
      if (this.failures < this.opts.failureThreshold) return
    }
    this.open(reason)
  }

  /** Open at once (the health check says the daemon is down). */
  trip (reason: string): void {
    this.open(reason)
    this.onEvent?.('trip', reason)
  }

  private open (reason: string): void {
    const t = this.now()
    if (this._state === 'closed') this.openedAt = t
    this._state = 'open'
    this._reason = reason
    this.nextProbeAt = t + this.opts.halfOpenAfterMs
  }

  /** What another worker's breaker for the same host learnt (its onEvent), applied without telling back. */
  mirror (event: BreakerEvent, reason: string): void {
    if (event === 'failure') this.fail(reason)
    else if (event === 'success') this.close()
    else this.open(reason)
  }

  /** When the circuit last opened (epoch ms), 0 if never. */
  get since (): number { return this.openedAt }
}
