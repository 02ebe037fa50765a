import { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { TLSSocket } from 'node:tls'
import fp from 'fastify-plugin'
import { UpgradeBody } from '../src/upgrade/body'
import { BodyInvalid, dockerErrorBody, NotAnUpgrade, RequestTimeout } from '../src/errors'
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
      body.fail(new RequestTimeout())
      if (reading) return
      if (res !== undefined && !res.headersSent) {
        const payload = dockerErrorBody('request timed out')
        res.writeHead(408, { 'Content-Type': 'application/json', 'Content-Length': payload.length })
        res.end(payload)
      } else {
        socket.destroy()
      }
    }, requestTimeoutMs)
    state.timer.unref()

    socket.once('close', () => {
      clearTimeout(state.timer)
      live.delete(socket)
      body.fail(new BodyInvalid('the client closed the connection'))
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
    if (state === undefined) throw new NotAnUpgrade()
    if (state.taken) throw new Error('the upgrade socket was already taken')
    if (state.res.headersSent) throw new Error('a response was already started on this upgrade request')
    // Without the reply the socket could not be hijacked, and fastify would write its own
    // response into the stream once the handler returns.
    if (state.reply === undefined) throw new Error('docker-gateway-upgrade: its onRequest hook did not run for this request')
    await state.body.discard(bodyLimit)
    if (state.socket.destroyed) throw new BodyInvalid('the client closed the connection')
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
