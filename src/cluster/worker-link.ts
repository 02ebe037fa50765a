import { isGatewayMessage, type RateCount, type ToPrimary, type ToWorker } from './messages'

/**
 * A worker's channel to its primary (node:cluster's IPC). Rate-limit counts
 * get an id and an answer; the counts asked in one event-loop turn leave in
 * one message (setImmediate), since a message costs far more than a count:
 * under load a turn holds several requests. Everything else is a one-way
 * event, handed to the listeners registered for its kind.
 */

/** A count's answer: the key's total in its window (-1: the primary did not answer) and the window's ms left. */
export type Counted = (current: number, ttl: number) => void

type Handler<K extends ToWorker['dgw']> = (msg: Extract<ToWorker, { dgw: K }>) => void

/** The parts of `process` a link uses (a test passes a pair of emitters). */
export interface Channel {
  send?: (msg: unknown) => boolean
  on: (event: 'message' | 'disconnect', listener: (msg?: unknown) => void) => unknown
}

export class WorkerLink {
  private nextId = 1
  private readonly waiting = new Map<number, Counted>()
  private batch: RateCount['counts'] = []
  private readonly handlers = new Map<string, Array<(msg: ToWorker) => void>>()
  private connected = true

  constructor (private readonly channel: Channel = process) {
    channel.on('message', (msg) => { this.receive(msg) })
    channel.on('disconnect', () => {
      this.connected = false
      // The primary is gone: nothing will answer. A count that cannot be made is an error
      // for the rate limiter (the request gets a 503 or passes, as redisDown says for Redis).
      const waiting = [...this.waiting.values()]
      this.waiting.clear()
      this.batch = []
      for (const done of waiting) done(-1, 0)
    })
  }

  get isConnected (): boolean { return this.connected }

  send (msg: ToPrimary): void {
    if (this.connected && this.channel.send !== undefined) this.channel.send(msg)
  }

  /** Count one request against `key` in the primary's shared counters. */
  count (key: string, windowMs: number, done: Counted): void {
    if (!this.connected) { done(-1, 0); return }
    const id = this.nextId++
    this.waiting.set(id, done)
    if (this.batch.push([id, key, windowMs]) === 1) setImmediate(this.flush)
  }

  private readonly flush = (): void => {
    const counts = this.batch
    this.batch = []
    if (counts.length > 0) this.send({ dgw: 'rate', counts })
  }

  on<K extends ToWorker['dgw']> (kind: K, handler: Handler<K>): void {
    const list = this.handlers.get(kind) ?? []
    list.push(handler as (msg: ToWorker) => void)
    this.handlers.set(kind, list)
  }

  private receive (msg: unknown): void {
    if (!isGatewayMessage(msg)) return
    const m = msg as ToWorker
    if (m.dgw === 'rate') {
      for (const [id, current, ttl] of m.answers) {
        const done = this.waiting.get(id)
        if (done === undefined) continue
        this.waiting.delete(id)
        done(current, ttl)
      }
      return
    }
    for (const h of this.handlers.get(m.dgw) ?? []) h(m)
  }
}
