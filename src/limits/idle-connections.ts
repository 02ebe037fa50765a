/**
 * Idle keep-alive connections give way to new clients when the gateway is
 * near limits.maxConnections (adversarial review of issue 10 finding 2).
 *
 * The per-principal and per-address caps alone do not bound the total: with
 * the defaults (64 per principal, 64 unauthenticated per address) and a
 * derived total of a third of the open-file limit (85 at ulimit 256), one
 * token from one address could still hold every slot, and a keep-alive
 * connection lives keepAliveTimeoutMs (65 s), renewed by each ping. So when
 * the open connections reach the cap less a headroom, the connections that
 * have been idle longest (a response finished, no request in flight) are
 * closed, one for each slot needed, and a new client is accepted instead of
 * being dropped at accept by net.Server.
 *
 * Why our own tracking and not Node's server.closeIdleConnections(): that
 * closes every idle connection at once, and a connection that has just been
 * accepted and not yet sent its request counts as idle to it
 * (lib/_http_server.js, ConnectionsList.idle()), so it would close the very
 * client it is meant to make room for, and all well-behaved keep-alive
 * clients with it. Closing an idle keep-alive connection is what HTTP allows
 * a server at any time (RFC 9112 §9.3, §9.5); clients reconnect (Go's
 * net/http retries a request on a reused connection the server closed).
 * A connection that never finished a request is not closed here: the header
 * deadline and the per-address cap bound those.
 *
 * Pure bookkeeping: the caller reports opens, closes, request starts and
 * response ends, and closes the handles `reclaim` returns.
 */

/** Slots kept free below the total cap: a tenth of it, at least 1. */
export function idleHeadroom (maxConnections: number): number {
  return Math.max(1, Math.floor(maxConnections / 10))
}

interface Entry<T> {
  /** requests in flight (pipelining can have more than one) */
  busy: number
  /** handle to close it by, and since when it is idle; undefined while never idle or busy */
  idle?: { handle: T, since: number }
  closing: boolean
}

export class IdleConnections<T> {
  private readonly conns = new Map<string, Entry<T>>()
  private closingCount = 0

  constructor (readonly maxConnections: number, private readonly now: () => number = Date.now) {
    if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new RangeError(`connection cap must be a positive integer, got ${maxConnections}`)
  }

  /** Open connections not already being closed. */
  get open (): number {
    return this.conns.size - this.closingCount
  }

  opened (connection: string): void {
    if (!this.conns.has(connection)) this.conns.set(connection, { busy: 0, closing: false })
  }

  /** A request began on the connection: it is not idle. */
  requestStarted (connection: string): void {
    const e = this.conns.get(connection)
    if (e === undefined) return
    e.busy++
    e.idle = undefined
  }

  /** A response ended; with no other request in flight the connection is idle from now, closable by `handle`. */
  responseEnded (connection: string, handle: T): void {
    const e = this.conns.get(connection)
    if (e === undefined || e.closing) return
    e.busy = Math.max(0, e.busy - 1)
    if (e.busy === 0) e.idle = { handle, since: this.now() }
  }

  closed (connection: string): void {
    const e = this.conns.get(connection)
    if (e === undefined) return
    if (e.closing) this.closingCount--
    this.conns.delete(connection)
  }

  /**
   * The handles to close now so that the open connections are below
   * maxConnections - headroom again, longest idle first; they count as
   * closed from now on (their 'close' comes a moment later).
   */
  reclaim (): T[] {
    const target = this.maxConnections - idleHeadroom(this.maxConnections)
    const excess = this.open - target
    if (excess <= 0) return []
    const idle = [...this.conns.values()]
      .filter((e): e is Entry<T> & { idle: { handle: T, since: number } } => !e.closing && e.idle !== undefined)
      .sort((a, b) => a.idle.since - b.idle.since)
      .slice(0, excess)
    for (const e of idle) {
      e.closing = true
      this.closingCount++
    }
    return idle.map(e => e.idle.handle)
  }
}
