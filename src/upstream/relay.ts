import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import type { Dispatcher } from 'undici'
import { upstreamError } from '../errors'

/**
 * Relays one request to the daemon and its answer to the client through
 * fastify's reply, so onSend/onResponse and the error handler see it like any
 * other response.
 *
 * - A stream (logs, stats, export, wait, stop): the daemon's body becomes a
 *   Readable handed to reply.send at the daemon's headers; a chunk goes to
 *   the client as it arrives, and the daemon read is paused while the client
 *   is full (push() returns false) and resumed when it reads again (_read),
 *   so a slow client slows the daemon instead of filling memory. The headers
 *   are flushed at once: `docker run` waits on /wait's headers before it starts.
 * - A short answer (JSON of inspect, list, version...) is gathered and sent in
 *   one write with a Content-Length, instead of being re-framed chunk by chunk:
 *   one packet where dockerd's chunked answer would otherwise cost a write per
 *   read (and Nagle/delayed-ACK stalls at low concurrency). Past
 *   SHORT_BUFFER_MAX it turns into a stream, so no answer is held whole.
 *
 * When the client goes away the daemon request is aborted at once, so no
 * daemon connection outlives its client.
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1) are never relayed. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade'
])

/** Largest short answer gathered before it is streamed instead. */
export const SHORT_BUFFER_MAX = 256 * 1024

/**
 * The daemon's headers that go to the client, set on the reply: not
 * hop-by-hop, not listed in its Connection header, and without
 * Content-Length when the gateway sends the body itself (fastify sets the
 * length of what it sends).
 */
export function relayHeaders (reply: FastifyReply, headers: IncomingHttpHeaders, keepLength: boolean): void {
  const connection = headers.connection
  const listed = typeof connection === 'string' ? connection.toLowerCase().split(',').map(s => s.trim()) : undefined
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (listed !== undefined && listed.includes(name)) || (!keepLength && name === 'content-length')) continue
    void reply.header(name, headers[name])
  }
}

export interface RelayStats {
  status: number
  /** Seconds from dispatch to the daemon's response headers (0 if none came). */
  headersSeconds: number
  /** Response body bytes relayed to the client. */
  bytesOut: number
  /** Set when the exchange did not end normally. */
  error?: Error
  /** The client went away before the response ended. */
  clientAborted: boolean
}

export interface RelayOptions {
  reply: FastifyReply
  dispatcher: Dispatcher
  hostName: string
  method: Dispatcher.HttpMethod
  path: string
  headers: Record<string, string>
  /** A Readable (a docker cp upload, src/upstream/upload.ts) is sent as it is read, chunked, paced by the daemon socket. */
  body?: string | Buffer | Readable
  headersTimeout: number
  bodyTimeout: number
  /** A stream: relayed as it arrives, headers flushed at once. */
  stream: boolean
  /**
   * Rewrites the body of a daemon error (status >= 400) before it is sent;
   * such bodies are small JSON (a short answer, gathered whole).
   */
  rewriteError?: (status: number, body: Buffer) => Buffer
  /**
   * Asked when the daemon's answer starts: an error to send in its place, the
   * daemon's body discarded (a docker cp upload the gateway cut: the daemon's
   * failure is the consequence, the client is told the cause).
   */
  refusal?: () => (Error & { statusCode: number }) | undefined
  /** Sees a short answer's gathered body as it is sent (prune's answer: the ids to forget). */
  onAnswer?: (status: number, body: Buffer) => void
  onDone: (stats: RelayStats) => void
}

/** The daemon's body as a Readable for reply.send, paced by the client. */
class DaemonBody extends Readable {
  constructor (private readonly relay: Relay) {
    // Room for a few of undici's reads before the daemon is paused: fewer pause/resume round trips on a large body.
    super({ highWaterMark: 256 * 1024 })
  }

  override _read (): void {
    this.relay.clientReady()
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.relay.clientGone()
    cb(err)
  }
}

class Relay implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined
  private readonly stats: RelayStats = { status: 0, headersSeconds: 0, bytesOut: 0, clientAborted: false }
  private readonly started = process.hrtime.bigint()
  private finished = false
  /** A short answer's chunks, until its end or SHORT_BUFFER_MAX. */
  private chunks: Buffer[] | undefined
  private gathered = 0
  private body: DaemonBody | undefined
  private paused = false
  /** The daemon's answer was replaced (opts.refusal): its body is read and dropped. */
  private replaced = false

  constructor (private readonly opts: RelayOptions) {
    // on, not once (no wrapper per stream): 'close' comes once, and done() removes the listener.
    opts.reply.raw.on('close', this.onClientClose)
  }

  private readonly onClientClose = (): void => { this.clientGone() }

  clientGone (): void {
    if (this.finished) return
    this.stats.clientAborted = true
    // Abort through the dispatch controller rather than an AbortController
    // per request: same effect, no allocation on the hot path.
    this.controller?.abort(new Error('client disconnected'))
    this.done()
  }

  clientReady (): void {
    const res = this.opts.reply.raw
    if (!res.headersSent && !res.destroyed) res.flushHeaders()
    if (this.paused) {
      this.paused = false
      this.controller?.resume()
    }
  }

  private done (error?: Error): void {
    if (this.finished) return
    this.finished = true
    this.opts.reply.raw.removeListener('close', this.onClientClose)
    if (error !== undefined) this.stats.error = error
    this.opts.onDone(this.stats)
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.controller = controller
    // The client left while the request waited for a connection.
    if (this.stats.clientAborted) controller.abort(new Error('client disconnected'))
  }

  onResponseStart (controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return // 1xx informational: wait for the final response
    dropRawHeaders(controller)
    this.stats.status = statusCode
    this.stats.headersSeconds = Number(process.hrtime.bigint() - this.started) / 1e9
    const refusal = this.opts.refusal?.()
    if (refusal !== undefined) {
      this.replaced = true
      this.stats.status = refusal.statusCode
      void this.opts.reply.send(refusal)
      return
    }
    // A short answer is sent whole by fastify, with its own length; a stream and a HEAD answer keep the daemon's.
    relayHeaders(this.opts.reply, headers, this.opts.stream || this.opts.method === 'HEAD')
    if (this.opts.stream) this.startStream([])
    else this.chunks = []
  }

  /** Hand the body to fastify as a stream, starting with what was gathered (past SHORT_BUFFER_MAX: then chunked). */
  private startStream (gathered: Buffer[]): void {
    this.chunks = undefined
    const body = new DaemonBody(this)
    this.body = body
    for (const chunk of gathered) body.push(chunk)
    void this.opts.reply.code(this.stats.status).send(body)
  }

  onResponseData (controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.replaced) return
    this.stats.bytesOut += chunk.length
    if (this.chunks !== undefined) {
      this.chunks.push(chunk)
      this.gathered += chunk.length
      const errorToRewrite = this.stats.status >= 400 && this.opts.rewriteError !== undefined
      if (this.gathered > SHORT_BUFFER_MAX && !errorToRewrite) this.startStream(this.chunks)
      return
    }
    if (this.body !== undefined && !this.body.push(chunk)) {
      this.paused = true
      controller.pause()
    }
  }

  onResponseEnd (): void {
    if (this.finished) return
    if (this.replaced) { this.done(); return }
    const chunks = this.chunks
    if (chunks !== undefined) {
      let body = chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)
      const status = this.stats.status
      if (status >= 400 && this.opts.rewriteError !== undefined) {
        body = this.opts.rewriteError(status, body)
        this.stats.bytesOut = body.length
      }
      this.opts.onAnswer?.(status, body)
      void this.opts.reply.code(status).send(body.length > 0 ? body : undefined)
    } else {
      this.body?.push(null)
    }
    this.done()
  }

  onResponseError (_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.finished) return
    if (this.replaced) { this.done(); return }
    if (this.body === undefined) {
      const own = requestBodyRefusal(err)
      if (own !== undefined) {
        // The gateway refused the request body on its way (an upload over its
        // limit): the client's doing, not the daemon's, so no breaker failure.
        this.stats.status = own.statusCode
        this.done()
        void this.opts.reply.send(own)
        return
      }
      // Nothing sent yet: the client gets a Docker-shaped 502/504.
      const mapped = upstreamError(err as NodeJS.ErrnoException, this.opts.hostName)
      this.stats.status = mapped.statusCode
      this.done(err)
      void this.opts.reply.send(mapped)
      return
    }
    // Mid-body failure: the status is already sent, so the only honest
    // signal left is to cut the connection (the client sees a truncated body).
    this.done(err)
    this.body.destroy(err)
  }
}

/**
 * undici hands a handler of this (new) interface its controller, an
 * UnwrapController (undici lib/handler/unwrap-handler.js), which keeps the
 * daemon's raw response head in `rawHeaders` for as long as the request
 * lives: Buffers that are views into the socket's first read, so a stream held
 * for hours keeps that whole read (the head and the first body bytes, about
 * 2 KB with a stats stream's first object) alive. The relay only needs the
 * parsed headers, once (issue 12: 5,000 held streams).
 */
function dropRawHeaders (controller: Dispatcher.DispatchController): void {
  const c = controller as Dispatcher.DispatchController & { rawHeaders?: unknown }
  if (c.rawHeaders !== undefined) c.rawHeaders = null
}

/** A gateway error (DGW_*) that a streamed request body failed with, as undici reports it. */
function requestBodyRefusal (err: Error): (Error & { statusCode: number }) | undefined {
  const e = err as Error & { code?: string, statusCode?: number }
  return e.code?.startsWith('DGW_') === true && e.statusCode !== undefined ? e as Error & { statusCode: number } : undefined
}

export function relay (opts: RelayOptions): void {
  const handler = new Relay(opts)
  opts.dispatcher.dispatch({
    path: opts.path,
    method: opts.method,
    headers: opts.headers,
    body: opts.body ?? null,
    headersTimeout: opts.headersTimeout,
    bodyTimeout: opts.bodyTimeout
  }, handler)
}
