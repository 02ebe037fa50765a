/**
 * Concurrent streams per principal (issue 10 finding 2): logs?follow, stats,
 * export, wait, attach and exec start each hold a daemon connection (and a
 * descriptor on each side) for as long as they last, so without a cap one
 * token can hold every descriptor the gateway has.
 *
 * A pure counter: `acquire` hands out a slot or refuses; the caller ties the
 * slot's release to the end of the stream. Releasing is idempotent, so every
 * way a stream can end may call it.
 */

export interface StreamSlot {
  release: () => void
}

export class StreamSlots {
  private readonly open = new Map<string, number>()

  constructor (readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`stream cap must be a positive integer, got ${max}`)
  }

  /** Streams the principal holds now. */
  count (principal: string): number {
    return this.open.get(principal) ?? 0
  }

  /** A slot for one more stream of `principal`, or undefined when it holds `max` already. */
  acquire (principal: string): StreamSlot | undefined {
    const n = this.count(principal)
    if (n >= this.max) return undefined
    this.open.set(principal, n + 1)
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        const left = this.count(principal) - 1
        // Forget principals without streams: the map stays as large as the set of streaming principals.
        if (left <= 0) this.open.delete(principal)
        else this.open.set(principal, left)
      }
    }
  }

  /** Principals holding at least one stream (for tests and metrics). */
  get principals (): number {
    return this.open.size
  }
}
