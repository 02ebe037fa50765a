import type { ServerResponse } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import { upstreamError } from '../errors'

/**
 * Relays one request to the daemon and its response to the client, chunk by
 * chunk, without buffering: a chunk is written to the client socket as it
 * arrives and the daemon read is paused while the client socket is full, so
 * a slow client slows the daemon read instead of filling memory. When the
 * client goes away the upstream request is aborted at once, so no daemon
 * connection outlives its client.
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1) are never relayed. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade'
])

export function responseHeaders (headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const connection = headers.connection
  const listed = typeof connection === 'string' ? connection.toLowerCase().split(',').map(s => s.trim()) : []
  const out: IncomingHttpHeaders = {}
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed.includes(name)) continue
    out[name] = headers[name]
  }
  return out
}

export interface ForwardStats {
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

export interface ForwardOptions {
  res: ServerResponse
  dispatcher: Dispatcher
  hostName: string
  method: Dispatcher.HttpMethod
  path: string
  headers: Record<string, string>
  body?: string | Buffer
  headersTimeout: number
  bodyTimeout: number
  /** Send headers before the first body byte (streams that may stay silent). */
  flushHeaders: boolean
  /**
   * Rewrites the body of a daemon error (status >= 400) before it is sent:
   * such bodies are small JSON, buffered whole only when this is set.
   */
  rewriteError?: (status: number, body: Buffer) => Buffer
  onDone: (stats: ForwardStats) => void
}

function sendError (res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ message })
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

class ResponseRelay implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined
  private readonly stats: ForwardStats = { status: 0, headersSeconds: 0, bytesOut: 0, clientAborted: false }
  private readonly started = process.hrtime.bigint()
  private finished = false
  /** Error body being collected for rewriteError, with the head it will be sent with. */
  private held: { chunks: Buffer[], statusMessage: string, headers: IncomingHttpHeaders } | undefined
  private readonly res: ServerResponse
  private readonly opts: ForwardOptions

  constructor (opts: ForwardOptions) {
    this.opts = opts
    this.res = opts.res
    this.res.once('close', this.onClientClose)
  }

  private readonly onClientClose = (): void => {
    if (this.finished) return
    this.stats.clientAborted = true
    // Abort through the dispatch controller rather than an AbortController
    // per request: same effect, no allocation on the hot path.
    this.controller?.abort(new Error('client disconnected'))
    this.done()
  }

  private corked = false
  /**
   * undici hands over every chunk of one socket read in the same tick (the
   * daemon writes its JSON in 4 KiB chunks); corking until the next tick
   * sends them to the client in one writev instead of one write each.
   */
  private readonly uncork = (): void => {
    this.corked = false
    this.res.uncork()
  }

  private readonly onDrain = (): void => {
    this.controller?.resume()
  }

  private done (error?: Error): void {
    if (this.finished) return
    this.finished = true
    this.res.removeListener('close', this.onClientClose)
    this.res.removeListener('drain', this.onDrain)
    if (error !== undefined) this.stats.error = error
    this.opts.onDone(this.stats)
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.controller = controller
    // The client left while the request waited for a connection.
    if (this.stats.clientAborted) controller.abort(new Error('client disconnected'))
  }

  onResponseStart (_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode < 200) return // 1xx informational: wait for the final response
    this.stats.status = statusCode
    this.stats.headersSeconds = Number(process.hrtime.bigint() - this.started) / 1e9
    if (this.res.destroyed) return
    if (statusCode >= 400 && this.opts.rewriteError !== undefined) {
      this.held = { chunks: [], statusMessage: statusMessage ?? '', headers: responseHeaders(headers) }
      return
    }
    this.res.writeHead(statusCode, statusMessage ?? '', responseHeaders(headers))
    if (this.opts.flushHeaders) this.res.flushHeaders()
  }

  onResponseData (controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.held !== undefined) {
      this.held.chunks.push(chunk)
      return
    }
    this.stats.bytesOut += chunk.length
    if (!this.corked && !this.opts.flushHeaders) {
      // Short calls only: a stream's chunks are large already, and a stream
      // should reach its client as soon as each chunk arrives.
      this.corked = true
      this.res.cork()
      process.nextTick(this.uncork)
    }
    if (!this.res.write(chunk)) {
      controller.pause()
      this.res.once('drain', this.onDrain)
    }
  }

  onResponseEnd (): void {
    const held = this.held
    if (held !== undefined && this.opts.rewriteError !== undefined && !this.res.destroyed) {
      const body = this.opts.rewriteError(this.stats.status, Buffer.concat(held.chunks))
      this.stats.bytesOut = body.length
      this.res.writeHead(this.stats.status, held.statusMessage, { ...held.headers, 'content-length': String(body.length) })
      this.res.end(body)
      this.done()
      return
    }
    this.res.end()
    this.done()
  }

  onResponseError (_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.finished) return
    if (!this.res.headersSent && !this.res.destroyed) {
      const mapped = upstreamError(err as NodeJS.ErrnoException, this.opts.hostName)
      this.stats.status = mapped.statusCode
      sendError(this.res, mapped.statusCode, mapped.message)
    } else {
      // Mid-body failure: the status is already sent, so the only honest
      // signal left is to cut the connection (the client sees a truncated body).
      this.res.destroy(err)
    }
    this.done(err)
  }
}

export function forward (opts: ForwardOptions): void {
  const relay = new ResponseRelay(opts)
  const headers = opts.headers
  const request: Dispatcher.DispatchOptions = {
    path: opts.path,
    method: opts.method,
    headers,
    body: opts.body ?? null,
    headersTimeout: opts.headersTimeout,
    bodyTimeout: opts.bodyTimeout
  }
  opts.dispatcher.dispatch(request, relay)
}
