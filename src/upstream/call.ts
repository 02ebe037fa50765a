import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import type { CircuitBreaker } from './breaker'
import { upstreamError, UpstreamTimeout } from '../errors'

/**
 * The gateway's own short calls to a daemon (ownership lookups, volume
 * claims, the top outcome check, /readyz, the fleet list): request, read the
 * whole answer, and tell the host's circuit breaker and metrics what the call
 * showed about the daemon. One function, so every caller maps failures to the
 * same Docker-shaped 502/504 and none of them is invisible to the breaker.
 *
 * What counts against the daemon (the breaker's input) is decided in
 * `callOutcome` below: any HTTP answer, 404 and 500 included, means the
 * daemon is alive; only transport failures count.
 */

/** A transport outcome of one call, as the breaker is fed it. */
export interface CallOutcome {
  /** Set when the exchange did not end normally. */
  error?: Error
  /** The client went away: says nothing about the daemon. */
  clientAborted?: boolean
}

export interface CallOptions {
  method?: Dispatcher.HttpMethod
  /** Already validated path and query. */
  path: string
  headers?: Record<string, string>
  body?: string
  /** Defaults: the host's configured headers and body timeouts. */
  headersTimeout?: number
  bodyTimeout?: number
  /**
   * End to end, queueing included. Passing it counts against the daemon
   * (it answered too slowly) and fails the call with a 504.
   */
  deadlineMs?: number
  /** The caller's own abort (its client went away): never counted against the daemon. */
  signal?: AbortSignal
  /** Read at most this many body bytes; past them `text` is undefined (the daemon still answered). */
  maxBytes?: number
}

export interface CallAnswer {
  status: number
  headers: IncomingHttpHeaders
  /** The whole body; undefined when it was larger than `maxBytes`. */
  text: string | undefined
}

/** Thrown for a call the daemon did not answer: Docker's error shape plus the breaker's short reason. */
export type UpstreamCallError = Error & { statusCode: number, reason: string }

/** Where a call's outcome goes: the host's breaker, and metrics when they are on. */
export interface UpstreamObserver {
  upstreamResponded: (host: string, seconds: number) => void
}

export interface CallTarget {
  readonly name: string
  readonly dispatcher: Dispatcher
  readonly timeouts: { headers: number, body: number }
  readonly breaker: CircuitBreaker
  readonly observer?: UpstreamObserver
}

/** Feed one call's transport outcome to a breaker (the mirror's forward reports the same way). */
export function recordOutcome (breaker: CircuitBreaker, outcome: CallOutcome): void {
  if (outcome.clientAborted === true) return
  if (outcome.error === undefined) {
    breaker.onSuccess()
    return
  }
  const e = outcome.error as NodeJS.ErrnoException
  breaker.onFailure(e.code ?? e.message)
}

/**
 * undici failures that are the gateway's, not the daemon's: an argument
 * undici refused (a gateway bug) or a pool closed by a reload or shutdown.
 * Counting them would open a healthy daemon's circuit.
 */
const NOT_THE_DAEMON = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED'])

/** The error a passed deadline is reported with (its message is the breaker's reason). */
export function deadlineExceeded (): Error {
  return new Error('deadline exceeded')
}

/**
 * What a failed call says about the daemon. Pure, for the table test.
 * `callerAborted`: the caller's own signal fired; `deadlineHit`: `deadlineMs` passed.
 */
export function callOutcome (err: unknown, how: { callerAborted: boolean, deadlineHit: boolean }): CallOutcome | undefined {
  if (how.callerAborted) return { clientAborted: true }
  if (how.deadlineHit) return { error: deadlineExceeded() }
  const code = (err as NodeJS.ErrnoException).code
  if (code !== undefined && NOT_THE_DAEMON.has(code)) return undefined
  return { error: err as Error }
}

/** The Docker-shaped error a caller throws for a call the daemon did not answer. */
export function callError (err: unknown, hostName: string, how: { deadlineHit: boolean, deadlineMs?: number }): UpstreamCallError {
  if (how.deadlineHit) {
    return Object.assign(new UpstreamTimeout(`Docker daemon "${hostName}" did not answer within ${how.deadlineMs ?? 0} ms`), { reason: 'deadline exceeded' })
  }
  const cause = err as NodeJS.ErrnoException
  return Object.assign(upstreamError(cause, hostName), { reason: cause.code ?? cause.message, cause })
}

/** Read a body to text, giving up past `limit` bytes (leaving the loop destroys the body). */
export async function readCapped (body: AsyncIterable<Buffer | Uint8Array>, limit = Infinity): Promise<string | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > limit) return undefined
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks).toString('utf8')
}

function anySignal (signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const set = signals.filter((s): s is AbortSignal => s !== undefined)
  return set.length <= 1 ? set[0] : AbortSignal.any(set)
}

/** One short call to the daemon, reported to its breaker and metrics. */
export async function callDaemon (target: CallTarget, opts: CallOptions): Promise<CallAnswer> {
  const deadline = opts.deadlineMs !== undefined ? AbortSignal.timeout(opts.deadlineMs) : undefined
  const started = performance.now()
  try {
    const res = await target.dispatcher.request({
      path: opts.path,
      method: opts.method ?? 'GET',
      headers: opts.headers,
      body: opts.body ?? null,
      signal: anySignal([deadline, opts.signal]),
      headersTimeout: opts.headersTimeout ?? target.timeouts.headers,
      bodyTimeout: opts.bodyTimeout ?? target.timeouts.body
    })
    target.observer?.upstreamResponded(target.name, (performance.now() - started) / 1000)
    const text = await readCapped(res.body, opts.maxBytes)
    recordOutcome(target.breaker, {})
    return { status: res.statusCode, headers: res.headers, text }
  } catch (err) {
    const how = { callerAborted: opts.signal?.aborted === true, deadlineHit: deadline?.aborted === true, deadlineMs: opts.deadlineMs }
    const outcome = callOutcome(err, how)
    if (outcome !== undefined) recordOutcome(target.breaker, outcome)
    // Nobody is left to read an answer to a call its caller abandoned.
    if (how.callerAborted) throw err
    throw callError(err, target.name, how)
  }
}
