import { CappedCounts } from './capped-counts'

/**
 * Connections per client address before authentication (issue 10 finding 2).
 *
 * Before a connection has carried an authenticated request, all the gateway
 * knows of its owner is the source address, so that is what is capped: one
 * address cannot hold every descriptor with idle or half-sent connections
 * (400 idle connections made a valid token's call fail). A connection whose
 * request authenticated stops counting, so many authenticated clients behind
 * one NAT address are not refused; they are bounded by the total cap and the
 * per-principal stream cap instead.
 *
 * Pure bookkeeping keyed by a connection id the caller chooses (the remote
 * address and port: unique among open connections, and the same for the
 * TCP socket and the TLS socket wrapping it).
 */
export class AddressGate {
  /** address -> connections not yet authenticated */
  private readonly pending: CappedCounts
  /** connection id -> its address, while it counts */
  private readonly counted = new Map<string, string>()

  constructor (readonly maxPerAddress: number) {
    this.pending = new CappedCounts(maxPerAddress, 'per-address cap')
  }

  /** Unauthenticated connections from `address` now. */
  count (address: string): number {
    return this.pending.count(address)
  }

  /** A new connection: true to accept it (it now counts), false to refuse it. */
  admit (connection: string, address: string): boolean {
    if (this.counted.has(connection)) return true
    if (!this.pending.take(address)) return false
    this.counted.set(connection, address)
    return true
  }

  /** The connection carried an authenticated request: it no longer counts against its address. */
  authenticated (connection: string): void {
    this.forget(connection)
  }

  /** The connection closed. */
  closed (connection: string): void {
    this.forget(connection)
  }

  private forget (connection: string): void {
    const address = this.counted.get(connection)
    if (address === undefined) return
    this.counted.delete(connection)
    this.pending.give(address)
  }
}
