import { isGatewayMessage, type RateCounted, type ToPrimary, type ToWorker } from './messages'

/**
 * A worker's channel to its primary (node:cluster's IPC). Requests that need
 * an answer (a rate-limit count) get an id; everything else is a one-way
 * event, handed to the listeners registered for its kind.
 */

type Handler<K extends ToWorker['dgw']> = (msg: Extract<ToWorker, { dgw: K }>) => void

/** The parts of `process` a link uses (a test passes a pair of emitters). */
export interface Channel {
  send?: (msg: unknown) => boolean
  on: (event: 'message' | 'disconnect', listener: (msg?: unknown) => void) => unknown
}

export class WorkerLink {
  private nextId = 1
  private readonly waiting = new Map<number, (answer: RateCounted) => void>()
  private readonly handlers = new Map<string, Array<(msg: ToWorker) => void>>()
  private connected = true

  constructor (private readonly channel: Channel = process) {
    channel.on('message', (msg) => { this.receive(msg) })
    channel.on('disconnect', () => {
      this.connected = false
      // The primary is gone: nothing will answer. A count that cannot be made is an error
      // for the rate limiter (the request gets a 503 or passes, as redisDown says for Redis).
      for (const [, resolve] of this.waiting) resolve({ dgw: 'rate', id: 0, current: -1, ttl: 0 })
      this.waiting.clear()
    })
  }

  get isConnected (): boolean { return this.connected }

  send (msg: ToPrimary): void {
    if (this.connected && this.channel.send !== undefined) this.channel.send(msg)
  }

  /** Count one request against `key` in the primary's shared counters. */
  count (key: string, windowMs: number, done: (answer: RateCounted) => void): void {
    if (!this.connected) { done({ dgw: 'rate', id: 0, current: -1, ttl: 0 }); return }
    const id = this.nextId++
    this.waiting.set(id, done)
    this.send({ dgw: 'rate', id, key, windowMs })
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
      const resolve = this.waiting.get(m.id)
      if (resolve === undefined) return
      this.waiting.delete(m.id)
      resolve(m)
      return
    }
    for (const h of this.handlers.get(m.dgw) ?? []) h(m)
  }
}
