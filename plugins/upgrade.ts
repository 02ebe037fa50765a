import { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { TLSSocket } from 'node:tls'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/**
 * Routes HTTP upgrade requests (attach and exec start with `Upgrade: tcp`, attach/ws with
 * `Upgrade: websocket`) through fastify's normal lifecycle.
 *
 * Node's http server does not hand a request carrying `Connection: Upgrade` to fastify; it emits
 * 'upgrade' on the server with the bare socket, and fastify ignores that event. Like
 * @fastify/websocket (`index.js` onUpgrade) we give the request to `fastify.routing()` with a
 * ServerResponse bound to the socket, so every onRequest/preParsing/preValidation/preHandler hook
 * (authentication, rate limit, allow-list, audit) runs exactly as for any other request, and a
 * refusal (401/403/404 JSON) is written on the socket as an ordinary response; the connection is
 * then closed because nothing parses a next request on it. A handler that wants the stream calls
 * `request.upgradeSocket()`.
 *
 * The body: llhttp stops at the end of an upgrade request's head (Node returns "skip body" for
 * it), so the IncomingMessage Node gives us is already ended and empty, even for
 * `POST /exec/{id}/start` with its JSON body, which may sit in `head` or still be in flight.
 * Fastify's content-type parser would then answer 400 "Request body size did not match
 * Content-Length". So fastify gets a fresh IncomingMessage with the same head, whose body is
 * read lazily from `head` + socket with the request's framing (Content-Length, or chunked as
 * docker-modem sends for hijack requests without a JSON body). Lazily: the body is only read
 * when fastify parses it, i.e. after the onRequest hooks (authentication) have passed. The bytes
 * after the body are the client's first stream bytes, returned by upgradeSocket().
 */

export interface UpgradePluginOptions {
  /**
   * Time from the 'upgrade' event until a handler takes the socket or a response is finished.
   * Node's own requestTimeout no longer applies to a socket once it is emitted as 'upgrade'.
   * Default 30 s.
   */
  requestTimeoutMs?: number
}

export interface UpgradedSocket {
  /**
   * The client's connection (net.Socket, or TLSSocket on an HTTPS server), not flowing: bytes
   * are read once it is piped or gets a 'data' listener, as with Node's own 'upgrade' socket.
   */
  socket: Duplex
  /** Bytes the client sent after its request and body; forward them after the daemon's 101. */
  head: Buffer
}

declare module 'fastify' {
  interface FastifyRequest {
    /** True when the request arrived through the server's 'upgrade' event. */
    readonly isUpgrade: boolean
    /**
     * Take the client socket of an upgrade request: reads (and discards) any body fastify did
     * not parse, hijacks the reply and returns the socket and the bytes after the request.
     * From then on the caller owns the socket (e.g. hands it to pipeUpgrade). Rejects (and the
     * error becomes a normal error reply) when the request is not an upgrade, the socket was
     * already taken, a response was already started, or the body cannot be read.
     */
    upgradeSocket: () => Promise<UpgradedSocket>
  }
}

const kUpgrade = Symbol('docker-gateway.upgrade')

interface UpgradeState {
  socket: Duplex
  res: ServerResponse
  body: UpgradeBody
  reply?: FastifyReply
  taken: boolean
  timer?: NodeJS.Timeout
}

type UpgradeIncomingMessage = IncomingMessage & { [kUpgrade]?: UpgradeState }

/** How long a refused client may keep the connection open after our response. */
const LINGER_MS = 2000
const MAX_CHUNK_LINE = 4096
const MAX_TRAILERS = 16 * 1024

class BodyError extends Error {
  constructor (message: string, readonly statusCode: number) {
    super(message)
  }
}

/**
 * The request body of an upgrade request, decoded from `head` + socket (RFC 9112 §6: with
 * Transfer-Encoding it is chunked, llhttp having already refused any other coding and a
 * Content-Length next to it; otherwise Content-Length; otherwise empty). Whatever follows the
 * body stays in `rest`, and the socket is paused as soon as the body is complete.
 */
class UpgradeBody {
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
        this.fail(new BodyError(`request body is larger than ${limit} bytes`, 413))
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
    this.fail(new BodyError('the client closed the connection before sending the whole request body', 400))
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
            if (this.rest.length > MAX_CHUNK_LINE) this.fail(new BodyError('invalid chunked request body', 400))
            return true
          }
          // chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); extensions are ignored.
          const sizeText = this.rest.subarray(0, eol).toString('latin1').split(';', 1)[0]?.trim() ?? ''
          this.rest = this.rest.subarray(eol + 2)
          if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) {
            this.fail(new BodyError('invalid chunked request body', 400))
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
            this.fail(new BodyError('invalid chunked request body', 400))
            return true
          }
          this.rest = this.rest.subarray(2)
          this.phase = 'size'
          break
        }
        case 'trailer': {
          const eol = this.rest.indexOf('\r\n')
          if (eol === -1) {
            if (this.trailerBytes + this.rest.length > MAX_TRAILERS) this.fail(new BodyError('request trailers too large', 400))
            return true
          }
          this.trailerBytes += eol + 2
          this.rest = this.rest.subarray(eol + 2)
          if (eol === 0) this.finish()
          else if (this.trailerBytes > MAX_TRAILERS) this.fail(new BodyError('request trailers too large', 400))
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
function buildRequest (original: IncomingMessage, socket: Duplex, head: Buffer, onFirstRead: () => void): { req: UpgradeIncomingMessage, body: UpgradeBody } {
  const req: UpgradeIncomingMessage = new IncomingMessage(socket as Socket)
  req.method = original.method
  req.url = original.url
  req.httpVersionMajor = original.httpVersionMajor
  req.httpVersionMinor = original.httpVersionMinor
  req.httpVersion = original.httpVersion
  req.rawHeaders = original.rawHeaders
  req.headers = original.headers
  ;(req as IncomingMessage & { upgrade: boolean }).upgrade = true
  const body = new UpgradeBody(socket, head, original.headers, (chunk) => {
    if (chunk === null) req.complete = true
    return req.push(chunk)
  }, onFirstRead, (err) => {
    if (!req.destroyed) req.destroy(err)
  })
  // An error nobody reads (the body failed while no parser was listening) must not crash.
  req.on('error', () => {})
  req._read = () => { body.pull() }
  // IncomingMessage's own _destroy destroys the socket when the body was incomplete; here the
  // plugin owns the socket (it still has to carry the error response), so only the stream ends.
  req._destroy = (err, cb) => { cb(err) }
  return { req, body }
}

async function upgradePlugin (fastify: FastifyInstance, opts: UpgradePluginOptions): Promise<void> {
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000
  const bodyLimit = fastify.initialConfig.bodyLimit ?? 1024 * 1024
  const live = new Set<Duplex>()

  const onUpgrade = (original: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node removed its own listeners from the socket before emitting 'upgrade'; without one an
    // error (ECONNRESET) would be unhandled and crash the process.
    socket.on('error', () => {})
    if (socket instanceof TLSSocket) {
      // https.Server sockets are created with allowHalfOpen false: the client's close_notify
      // after stdin EOF (Go tls.Conn.CloseWrite from the CLI) would end our side at once and
      // cut the process's remaining output. Plain http.Server sockets already allow it.
      socket.allowHalfOpen = true
    }
    live.add(socket)

    let res: ServerResponse | undefined
    const { req, body } = buildRequest(original, socket, head, () => {
      // The client waits for this before sending the body (RFC 9110 §10.1.1).
      if (res !== undefined && !res.headersSent && String(original.headers.expect).toLowerCase() === '100-continue') res.writeContinue()
    })
    res = new ServerResponse(req)
    // Nobody parses a next request on this socket: say so, and close after the response.
    res.shouldKeepAlive = false
    const state: UpgradeState = { socket, res, body, taken: false }
    req[kUpgrade] = state

    state.timer = setTimeout(() => {
      if (state.taken) return
      // A parser waiting for the body gets the error and fastify answers 408 through the
      // app's error handler; otherwise (a slow hook, a handler that never takes the socket)
      // the answer is written here.
      const reading = body.reading
      body.fail(new BodyError('request timed out', 408))
      if (reading) return
      if (res !== undefined && !res.headersSent) {
        const payload = JSON.stringify({ message: 'request timed out' })
        res.writeHead(408, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) })
        res.end(payload)
      } else {
        socket.destroy()
      }
    }, requestTimeoutMs)
    state.timer.unref()

    socket.once('close', () => {
      clearTimeout(state.timer)
      live.delete(socket)
      body.fail(new BodyError('the client closed the connection', 400))
      // Lets fastify see the client's departure as for any request: request.signal aborts on
      // 'close', onRequestAbort hooks run when `aborted` is set (only if no answer was given).
      if (!state.taken && !state.res.writableEnded) (req as IncomingMessage & { aborted: boolean }).aborted = true
      if (!req.destroyed) req.destroy()
    })

    // An ordinary response (a refusal, or a route that does not upgrade) has been written:
    // end our side, discard what the client still sends, and close when it closes or after a
    // short linger, so the response is not lost to a reset (RFC 9112 §9.6).
    res.once('finish', () => {
      if (state.taken) return
      clearTimeout(state.timer)
      socket.removeAllListeners('data')
      socket.on('data', () => {})
      socket.once('end', () => { socket.destroy() })
      socket.end()
      socket.resume()
      setTimeout(() => { socket.destroy() }, LINGER_MS).unref()
    })

    try {
      res.assignSocket(socket as Socket)
      fastify.routing(req, res)
    } catch (err) {
      fastify.log.warn({ err }, 'upgrade request failed before routing')
      socket.destroy()
    }
  }

  fastify.decorateRequest('isUpgrade', {
    getter (this: FastifyRequest): boolean {
      return (this.raw as UpgradeIncomingMessage)[kUpgrade] !== undefined
    }
  })

  fastify.decorateRequest('upgradeSocket', async function upgradeSocket (this: FastifyRequest): Promise<UpgradedSocket> {
    const state = (this.raw as UpgradeIncomingMessage)[kUpgrade]
    if (state === undefined) throw new BodyError('this request did not ask for a connection upgrade', 400)
    if (state.taken) throw new Error('the upgrade socket was already taken')
    if (state.res.headersSent) throw new Error('a response was already started on this upgrade request')
    // Without the reply the socket could not be hijacked, and fastify would write its own
    // response into the stream once the handler returns.
    if (state.reply === undefined) throw new Error('docker-gateway-upgrade: its onRequest hook did not run for this request')
    await state.body.discard(bodyLimit)
    if (state.socket.destroyed) throw new BodyError('the client closed the connection', 400)
    state.taken = true
    clearTimeout(state.timer)
    state.reply.hijack()
    // The ServerResponse stays bound to the socket on purpose: it never writes again (the reply
    // is hijacked), and its 'close' still fires when the socket closes, which is what
    // reply.raw 'close' listeners (the audit line) wait for.
    return { socket: state.socket, head: state.body.rest }
  })

  fastify.addHook('onRequest', (request, reply, done) => {
    const state = (request.raw as UpgradeIncomingMessage)[kUpgrade]
    if (state !== undefined) state.reply = reply
    done()
  })

  fastify.server.on('upgrade', onUpgrade)

  // Upgraded sockets are not tracked by the http server any more, so server.close() would wait
  // for every attach stream to end by itself. Shutting down ends them.
  fastify.addHook('preClose', (done) => {
    fastify.server.removeListener('upgrade', onUpgrade)
    for (const socket of live) socket.destroy()
    done()
  })
}

export default fp(upgradePlugin, { name: 'docker-gateway-upgrade', fastify: '5.x' })
