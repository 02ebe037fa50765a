import { CappedCounts } from './capped-counts'

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
  private readonly open: CappedCounts

  constructor (readonly max: number) {
    this.open = new CappedCounts(max, 'stream cap')
  }

  /** Streams the principal holds now. */
  count (principal: string): number {
    return this.open.count(principal)
  }

  /** A slot for one more stream of `principal`, or undefined when it holds `max` already. */
  acquire (principal: string): StreamSlot | undefined {
    if (!this.open.take(principal)) return undefined
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        this.open.give(principal)
      }
    }
  }

  /** Principals holding at least one stream (for tests and metrics). */
  get principals (): number {
    return this.open.size
  }
}
