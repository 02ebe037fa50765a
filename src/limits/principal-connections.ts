/**
 * Open connections per principal (adversarial review of issue 10 finding 2).
 *
 * A connection stops counting against its client address once a request on
 * it authenticated (src/limits/address-gate.ts), so without this cap one
 * valid token could keep every connection the gateway accepts open with a
 * ping each keep-alive period, and others would be dropped at accept.
 *
 * A connection belongs to the first principal authenticated on it, for as
 * long as it is open: a later request on it with another principal's token
 * is served but takes no slot (the connection's holder has already paid for
 * it, and re-assigning it would let one principal move its connections onto
 * another's count). A principal over its cap is refused, and the caller
 * closes that connection; the slot frees when a counted connection closes.
 *
 * Pure bookkeeping keyed by a connection id the caller chooses.
 */

/**
 * What to do with an authenticated request's connection:
 * `counted` it already belongs to this principal, or now does;
 * `other`   it belongs to another principal (served, not counted);
 * `over`    the principal holds its cap: refuse the request and close the connection.
 */
export type ConnectionClaim = 'counted' | 'other' | 'over'

export class PrincipalConnections {
  /** principal -> open connections it owns */
  private readonly open = new Map<string, number>()
  /** connection id -> its owner */
  private readonly owner = new Map<string, string>()

  constructor (readonly maxPerPrincipal: number) {
    if (!Number.isInteger(maxPerPrincipal) || maxPerPrincipal < 1) throw new RangeError(`per-principal connection cap must be a positive integer, got ${maxPerPrincipal}`)
  }

  /** Connections `principal` owns now. */
  count (principal: string): number {
    return this.open.get(principal) ?? 0
  }

  /** A request on `connection` authenticated as `principal`. */
  claim (connection: string, principal: string): ConnectionClaim {
    const holder = this.owner.get(connection)
    if (holder !== undefined) return holder === principal ? 'counted' : 'other'
    const n = this.count(principal)
    if (n >= this.maxPerPrincipal) return 'over'
    this.open.set(principal, n + 1)
    this.owner.set(connection, principal)
    return 'counted'
  }

  /** The connection closed: its owner's slot is free. Unknown or repeated ids free nothing. */
  closed (connection: string): void {
    const holder = this.owner.get(connection)
    if (holder === undefined) return
    this.owner.delete(connection)
    const left = this.count(holder) - 1
    // Forget principals without connections: the map stays as large as the set of connected principals.
    if (left <= 0) this.open.delete(holder)
    else this.open.set(holder, left)
  }

  /** Principals owning at least one connection (for tests and metrics). */
  get principals (): number {
    return this.open.size
  }
}
