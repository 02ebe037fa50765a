import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { BodyInvalid, PayloadTooLarge } from '../errors'

/**
 * The request body of an upgrade request (attach, exec start), read from the
 * bytes Node hands over with the socket: plugins/upgrade.ts explains why
 * fastify cannot read it the usual way.
 */
const MAX_CHUNK_LINE = 4096
const MAX_TRAILERS = 16 * 1024


/**
 * The request body of an upgrade request, decoded from `head` + socket (RFC 9112 §6: with
 * Transfer-Encoding it is chunked, llhttp having already refused any other coding and a
 * Content-Length next to it; otherwise Content-Length; otherwise empty). Whatever follows the
 * body stays in `rest`, and the socket is paused as soon as the body is complete.
 */
export class UpgradeBody {
  ended = false
  /** Received bytes not yet decoded; after the end, the client's first stream bytes. */
  rest: Buffer
  private readonly chunked: boolean
  private remaining: number
  private phase: 'size' | 'data' | 'data-crlf' | 'trailer' = 'size'
  private trailerBytes = 0
  private listening = false
  private failed: Error | undefined
  private waiters: Array<(err?: Error) => void> = []

  constructor (
    private readonly socket: Duplex,
    head: Buffer,
    headers: IncomingMessage['headers'],
    /** Receives body bytes, then null; returns false to ask for a pause (Readable.push). */
    private sink: (chunk: Buffer | null) => boolean,
    private readonly onFirstRead: () => void,
    /** The body cannot be read: error the request stream, so fastify's parser answers. */
    private readonly onFail: (err: Error) => void
  ) {
    this.rest = head
    this.chunked = headers['transfer-encoding'] !== undefined
    this.remaining = this.chunked ? 0 : Number(headers['content-length'] ?? 0)
    if (!this.chunked && this.remaining === 0) this.ended = true
  }

  /** True while a reader waits for body bytes from the socket. */
  get reading (): boolean {
    return this.listening
  }

  /** Called from the request's _read: deliver what we have and listen for more. */
  pull (): void {
    if (this.ended || this.failed !== undefined) {
      if (this.ended) this.sink(null)
      return
    }
    if (!this.listening) {
      this.listening = true
      this.onFirstRead()
      this.socket.on('data', this.onData)
      this.socket.on('end', this.onEnd)
    }
    // Resume only while the body is still incomplete: once it is, the socket stays paused so
    // no stream byte is read before the handler takes the socket.
    if (this.decode() && !this.ended && this.failed === undefined) this.socket.resume()
  }

  /** Read and throw away whatever of the body fastify did not consume (e.g. a GET with a body). */
  async discard (limit: number): Promise<void> {
    if (this.ended) return
    if (this.failed !== undefined) throw this.failed
    let seen = 0
    this.sink = (chunk) => {
      if (chunk !== null && (seen += chunk.length) > limit) {
        this.fail(new PayloadTooLarge(limit))
        return false
      }
      return true
    }
    await new Promise<void>((resolve, reject) => {
      this.waiters.push((err) => { err === undefined ? resolve() : reject(err) })
      this.pull()
    })
  }

  fail (err: Error): void {
    if (this.failed !== undefined || this.ended) return
    this.failed = err
    this.stop()
    this.onFail(err)
    for (const w of this.waiters.splice(0)) w(err)
  }

  private readonly onData = (chunk: Buffer): void => {
    this.rest = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk])
    if (!this.decode()) this.socket.pause()
  }

  private readonly onEnd = (): void => {
    this.fail(new BodyInvalid('the client closed the connection before sending the whole request body'))
  }

  private stop (): void {
    if (!this.listening) return
    this.listening = false
    this.socket.removeListener('data', this.onData)
    this.socket.removeListener('end', this.onEnd)
    // Stop the flow, then leave the socket as Node's 'upgrade' event hands it over (flowing
    // null): pause() alone would leave it at false, and a later on('data') would not restart it.
    this.socket.pause()
    ;(this.socket as { readableFlowing: boolean | null }).readableFlowing = null
  }

  private finish (): void {
    this.ended = true
    this.stop()
    this.sink(null)
    for (const w of this.waiters.splice(0)) w()
  }

  /** Decode as much of `rest` as possible; false when the sink asked us to pause. */
  private decode (): boolean {
    while (!this.ended && this.failed === undefined) {
      if (!this.chunked) {
        if (this.rest.length === 0) return true
        const n = Math.min(this.remaining, this.rest.length)
        const more = this.emit(n)
        this.remaining -= n
        if (this.remaining === 0) this.finish()
        if (!more) return false
        continue
      }
      switch (this.phase) {
        case 'size': {
          const eol = this.rest.indexOf('\r\n')
          if (eol === -1) {
            if (this.rest.length > MAX_CHUNK_LINE) this.fail(new BodyInvalid('invalid chunked request body'))
            return true
          }
          // chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); extensions are ignored.
          const sizeText = this.rest.subarray(0, eol).toString('latin1').split(';', 1)[0]?.trim() ?? ''
          this.rest = this.rest.subarray(eol + 2)
          if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) {
            this.fail(new BodyInvalid('invalid chunked request body'))
            return true
          }
          this.remaining = parseInt(sizeText, 16)
          this.phase = this.remaining === 0 ? 'trailer' : 'data'
          break
        }
        case 'data': {
          if (this.rest.length === 0) return true
          const n = Math.min(this.remaining, this.rest.length)
          const more = this.emit(n)
          this.remaining -= n
          if (this.remaining === 0) this.phase = 'data-crlf'
          if (!more) return false
          break
        }
        case 'data-crlf': {
          if (this.rest.length < 2) return true
          if (this.rest[0] !== 0x0d || this.rest[1] !== 0x0a) {
            this.fail(new BodyInvalid('invalid chunked request body'))
            return true
          }
          this.rest = this.rest.subarray(2)
          this.phase = 'size'
          break
        }
        case 'trailer': {
          const eol = this.rest.indexOf('\r\n')
          if (eol === -1) {
            if (this.trailerBytes + this.rest.length > MAX_TRAILERS) this.fail(new BodyInvalid('request trailers too large'))
            return true
          }
          this.trailerBytes += eol + 2
          this.rest = this.rest.subarray(eol + 2)
          if (eol === 0) this.finish()
          else if (this.trailerBytes > MAX_TRAILERS) this.fail(new BodyInvalid('request trailers too large'))
          break
        }
      }
    }
    return true
  }

  private emit (n: number): boolean {
    if (n === 0) return true
    // Copy: the socket's buffers must not be retained by whoever keeps the body.
    const chunk = Buffer.from(this.rest.subarray(0, n))
    this.rest = this.rest.subarray(n)
    return this.sink(chunk)
  }
}

/**
 * A fresh IncomingMessage carrying the upgrade request's head and a lazily read body, so the
 * content-type parser, bodyLimit and Content-Length checks of fastify work unchanged.
 */
