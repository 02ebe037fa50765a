/**
 * A count per key with a ceiling: the one mechanism under every limit of
 * src/limits (unauthenticated connections per address, connections per
 * principal, streams per principal). A key whose count falls to zero is
 * forgotten, so the map stays as large as the set of keys holding something.
 */
export class CappedCounts {
  private readonly counts = new Map<string, number>()

  /** `what` names the cap in the error for a bad configuration value. */
  constructor (readonly max: number, what: string) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`${what} must be a positive integer, got ${max}`)
  }

  /** What `key` holds now. */
  count (key: string): number {
    return this.counts.get(key) ?? 0
  }

  /** One more for `key`: false (and nothing taken) when it holds `max` already. */
  take (key: string): boolean {
    const n = this.count(key)
    if (n >= this.max) return false
    this.counts.set(key, n + 1)
    return true
  }

  /** One fewer for `key`; the caller gives back only what it took. */
  give (key: string): void {
    const left = this.count(key) - 1
    if (left <= 0) this.counts.delete(key)
    else this.counts.set(key, left)
  }

  /** Keys holding at least one. */
  get size (): number {
    return this.counts.size
  }
}
