import { CappedCounts } from './capped-counts'

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
  private readonly open: CappedCounts
  /** connection id -> its owner */
  private readonly owner = new Map<string, string>()

  constructor (readonly maxPerPrincipal: number) {
    this.open = new CappedCounts(maxPerPrincipal, 'per-principal connection cap')
  }

  /** Connections `principal` owns now. */
  count (principal: string): number {
    return this.open.count(principal)
  }

  /** A request on `connection` authenticated as `principal`. */
  claim (connection: string, principal: string): ConnectionClaim {
    const holder = this.owner.get(connection)
    if (holder !== undefined) return holder === principal ? 'counted' : 'other'
    if (!this.open.take(principal)) return 'over'
    this.owner.set(connection, principal)
    return 'counted'
  }

  /** The connection closed: its owner's slot is free. Unknown or repeated ids free nothing. */
  closed (connection: string): void {
    const holder = this.owner.get(connection)
    if (holder === undefined) return
    this.owner.delete(connection)
    this.open.give(holder)
  }

  /** Principals owning at least one connection (for tests and metrics). */
  get principals (): number {
    return this.open.size
  }
}
