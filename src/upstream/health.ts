import type { Dispatcher } from 'undici'
import type { CircuitBreaker } from './breaker'

/**
 * Background health checks: each host's `/_ping` on a timer, on a
 * connection of its own (so a short-call pool saturated by a burst never
 * makes a busy daemon look dead), with a deadline covering connect, headers
 * and body. The result drives what `GET /hosts` shows and the host's circuit
 * breaker: a host that fails `fall` checks in a row is "down" and its
 * circuit opens, so calls fail fast; one that answers again (`rise` checks)
 * is "up" and its circuit closes, without a restart.
 *
 * `/_ping` is what the docker CLI itself calls first, and every daemon
 * answers it with an `Api-Version` header (Engine API "Ping": "API-Version:
 * Max API Version the server supports"), which is how the gateway learns the
 * daemon's API version. The daemon version comes from `/version`, asked once
 * per recovery.
 *
 * Pings do not go through the host's client (host.call), which reports every
 * call to the breaker: the checker has its own say over the breaker, by
 * `fall` and `rise`. Through host.call each ping would be counted twice (a
 * failed one also towards failureThreshold, a good one closing the circuit of
 * a host that must stay down until `rise` checks pass), and every ping would
 * land in the upstream latency metric, which is about the calls users make.
 */

export type HostState = 'unknown' | 'up' | 'degraded' | 'down'

export interface HealthOptions {
  intervalMs: number
  timeoutMs: number
  /** Consecutive failed checks before a host is down (HAProxy's `fall`). */
  fall: number
  /** Consecutive good checks before a down host is up again (HAProxy's `rise`). */
  rise: number
  /** A ping slower than this makes an answering host "degraded". */
  degradedLatencyMs: number
}

export const DEFAULT_HEALTH: HealthOptions = { intervalMs: 2000, timeoutMs: 1000, fall: 2, rise: 1, degradedLatencyMs: 500 }

export type CheckResult =
  | { ok: true, latencyMs: number, apiVersion?: string }
  | { ok: false, latencyMs: number, error: string }

/** What is known about one host; read by GET /hosts and the mirror. */
export interface HostHealth {
  state: HostState
  /** `Api-Version` from the last good ping. */
  apiVersion?: string
  /** Daemon version from `/version` (e.g. 20.10.24+dfsg1). */
  version?: string
  /** Epoch ms of the last finished check. */
  lastCheck?: number
  latencyMs?: number
  /** Why the last check failed. */
  error?: string
  failures: number
  successes: number
}

export function initialHealth (): HostHealth {
  return { state: 'unknown', failures: 0, successes: 0 }
}

/**
 * Fold one check result into the host's health. Pure, for the table tests.
 * `circuitClosed` is false while calls are failing although pings answer.
 */
export function applyCheck (prev: HostHealth, result: CheckResult, now: number, opts: HealthOptions, circuitClosed = true): HostHealth {
  const next: HostHealth = { ...prev, lastCheck: now, latencyMs: result.latencyMs }
  if (result.ok) {
    next.failures = 0
    next.successes = prev.successes + 1
    delete next.error
    if (result.apiVersion !== undefined) next.apiVersion = result.apiVersion
    if (prev.state === 'down' && next.successes < opts.rise) {
      next.state = 'down'
    } else if (result.latencyMs > opts.degradedLatencyMs || !circuitClosed) {
      next.state = 'degraded'
    } else {
      next.state = 'up'
    }
  } else {
    next.successes = 0
    next.failures = prev.failures + 1
    next.error = result.error
    // One lost ping is not a dead daemon; `fall` of them in a row is.
    next.state = next.failures >= opts.fall ? 'down' : prev.state === 'down' ? 'down' : 'degraded'
  }
  return next
}

/** The parts of a host the checker reads and updates. */
export interface Checked {
  readonly name: string
  readonly probe: Dispatcher
  readonly breaker: CircuitBreaker
  health: HostHealth
}

function describe (err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout'
  return e.code ?? e.cause?.code ?? e.message
}

/** One `/_ping`, bounded by timeoutMs end to end. Never throws. */
export async function ping (probe: Dispatcher, timeoutMs: number): Promise<CheckResult> {
  const start = performance.now()
  try {
    const res = await probe.request({
      path: '/_ping',
      method: 'GET',
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    })
    const text = await res.body.text()
    const latencyMs = performance.now() - start
    if (res.statusCode !== 200) return { ok: false, latencyMs, error: `/_ping answered ${res.statusCode} ${text.slice(0, 100)}` }
    const api = res.headers['api-version']
    const result: CheckResult = { ok: true, latencyMs }
    if (typeof api === 'string' && /^1\.[0-9]{1,4}$/.test(api)) result.apiVersion = api
    return result
  } catch (err) {
    return { ok: false, latencyMs: performance.now() - start, error: describe(err) }
  }
}

async function daemonVersion (probe: Dispatcher, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await probe.request({ path: '/version', method: 'GET', signal: AbortSignal.timeout(timeoutMs) })
    if (res.statusCode !== 200) {
      await res.body.dump()
      return undefined
    }
    const v = await res.body.json() as { Version?: unknown }
    return typeof v.Version === 'string' ? v.Version : undefined
  } catch {
    return undefined
  }
}

/** Run one check against a host and apply it to its health and breaker. */
export async function checkHost (host: Checked, opts: HealthOptions, now: () => number = Date.now): Promise<void> {
  const result = await ping(host.probe, opts.timeoutMs)
  const wasServing = host.health.state === 'up' || host.health.state === 'degraded'
  // Calls failing while pings answer (read before the ping closes the circuit).
  const callsFailing = host.breaker.state !== 'closed' || host.breaker.consecutiveFailures > 0
  const next = applyCheck(host.health, result, now(), opts, !callsFailing)
  if (result.ok && next.state !== 'down') {
    // The daemon answers again: close the circuit so calls flow. If calls
    // still fail, the breaker re-opens after failureThreshold of them.
    host.breaker.onSuccess()
    if (next.version === undefined || !wasServing) {
      const v = await daemonVersion(host.probe, opts.timeoutMs)
      if (v !== undefined) next.version = v
    }
  }
  if (next.state === 'down' && !result.ok) host.breaker.trip(`health check failed: ${result.error}`)
  host.health = next
}

/** Checks one host every intervalMs; never overlaps two checks of the same host. */
export class HealthLoop {
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly host: Checked
  private readonly opts: HealthOptions
  private running: Promise<void> | undefined
  private readonly onChecked: ((host: Checked) => void) | undefined

  /** `onChecked`: after each check (a gateway's health leader tells its other workers, src/cluster). */
  constructor (host: Checked, opts: HealthOptions, onChecked?: (host: Checked) => void) {
    this.host = host
    this.opts = opts
    this.onChecked = onChecked
  }

  /** Start; resolves when the first check has finished. */
  async start (): Promise<void> {
    this.stopped = false
    await this.tick()
  }

  private async tick (): Promise<void> {
    if (this.stopped) return
    this.running = checkHost(this.host, this.opts)
    await this.running
    this.running = undefined
    if (this.stopped) return
    this.onChecked?.(this.host)
    // A timer per host, unref'd: health checks never keep the process alive.
    this.timer = setTimeout(() => { void this.tick() }, this.opts.intervalMs)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    await this.running
  }
}
