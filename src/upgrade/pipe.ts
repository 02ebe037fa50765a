import { dockerErrorResponse } from '../errors'
import http from 'node:http'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import { connectRaw, type UpstreamTarget } from '../upstream/target'
import type { CallOutcome } from '../upstream/call'

/**
 * HTTP upgrade pass-through for the hijacked endpoints: `POST /containers/{id}/attach`,
 * `POST /exec/{id}/start` (`Upgrade: tcp`, answered `101 UPGRADED`) and
 * `GET /containers/{id}/attach/ws` (`Upgrade: websocket`, `101 Switching Protocols`).
 *
 * Why node:http's client on a connectRaw() socket, and not undici or a hand-written parser:
 * - undici's `upgrade()` hands back a socket only for a 101. Any other answer (404 "No such
 *   exec instance", dockerd's raw-text attach errors) becomes `SocketError('bad upgrade')`
 *   (undici `lib/api/api-upgrade.js` onHeaders) and the daemon's message is lost, while docker
 *   clients print exactly that message to the user.
 * - node:http's client is what dockerode itself uses for hijack (docker-modem `lib/modem.js`):
 *   llhttp frames the request (header values with CR/LF are refused, so no header injection),
 *   bounds the response head (`maxHeaderSize`), decodes a chunked or close-delimited non-101
 *   body, and on a 101 gives us the bare socket plus the bytes read past the head
 *   (RFC 9110 §15.2.2: after the 101's empty line the connection speaks the new protocol).
 *   With `createConnection` it has no agent, so the socket is never pooled or reused.
 * - connectRaw() gives the same socket for unix://, tcp:// and https:// daemons.
 *
 * Request smuggling guard: nothing the client sends after its request is written to the daemon
 * until the daemon has answered 101. Otherwise, after a non-101 answer the daemon would read
 * those bytes as the next (unvetted) request on a keep-alive connection. For the same reason
 * the daemon connection is never reused: it is closed after a non-101 answer.
 */

export interface PipeUpgradeOptions {
  /** The client's socket, taken from the server after `reply.hijack()`. */
  client: Duplex
  /** Bytes the client sent after its request (and body); forwarded only after a 101. */
  clientHead: Buffer
  target: UpstreamTarget
  method: string
  /** Already validated upstream path including the query string. */
  path: string
  /**
   * The headers the gateway chooses to forward (e.g. Host, Content-Type, Upgrade, Connection,
   * User-Agent, and Sec-WebSocket-* for attach/ws). Framing headers are ours: any
   * Content-Length / Transfer-Encoding given here is replaced by the length of `body`.
   */
  headers: Record<string, string>
  /** The (already vetted) request body, sent with Content-Length (RFC 9112 §6.2). */
  body?: Buffer
  /** Aborting destroys both connections (e.g. gateway shutdown). */
  signal?: AbortSignal
  /** How long the daemon may take to send its response head; then the client gets a 504. */
  headersTimeoutMs: number
  /** Largest daemon response head accepted; llhttp's default is 16 KiB. */
  maxHeaderSize?: number
  /** Called once with the daemon's status (or the gateway's 502/504), before anything is relayed. */
  onResponse?: (status: number) => void
  /**
   * Called once with what the handshake showed about the daemon, for its circuit breaker:
   * any response head (101 or not) is `{}`; no connection or no head within headersTimeoutMs
   * is `{ error }`; the client or `signal` gone first is `{ clientAborted }`. What happens on
   * the stream after a 101 is the attached process's business, not the daemon's health.
   */
  onOutcome?: (outcome: CallOutcome) => void
  /**
   * Added to (+=) as bytes flow, with the same meaning as the result's counts. The promise
   * settles only after both sockets closed, i.e. after the client socket's 'close' (and so
   * after reply.raw 'close', where an audit line is written); a meter is already final then.
   */
  meter?: { bytesIn: number, bytesOut: number }
  /**
   * TCP keepalive on both sockets once upgraded: the first probe after this much silence
   * (net.Socket setKeepAlive). A peer that vanished without a FIN or RST (power loss, a
   * dropped NAT entry) is then noticed by the kernel, and both sides are closed.
   */
  keepAliveMs?: number
  /**
   * Close both sides when no byte has passed in either direction for this long after the
   * upgrade; 0 or absent: never. Issue 10 finding 9: a client that half-closes (stdin EOF)
   * and then goes silent, with a process that neither reads stdin nor writes, pinned a
   * gateway socket and a daemon socket until the gateway exited.
   */
  idleTimeoutMs?: number
  /** Called once when the idle timeout closes the stream, before the sockets are destroyed. */
  onIdle?: () => void
}

export interface PipeUpgradeResult {
  /**
   * The daemon's status code; 502/504 when the gateway answered instead (daemon unreachable,
   * or no response head within headersTimeoutMs); 499 when the client went away, or `signal`
   * aborted, before the daemon answered.
   */
  status: number
  /** Stream bytes client → daemon after the 101 (clientHead included; request head and body excluded). */
  bytesIn: number
  /** Bytes daemon → client after the response head (the raw stream, or the non-101 body). */
  bytesOut: number
}

/** How long a client may keep its side open after ours has ended and the daemon is gone. */
const LINGER_MS = 5000

/** Hop-by-hop headers of a non-101 answer we relay and then close (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer'])

/**
 * Close a connection with a reset where it is plain TCP. After a half-close our side has
 * already sent its FIN, so a plain close sends nothing more, and a peer that is not writing
 * (dockerd waiting for output of a silent process) would keep its end in CLOSE_WAIT; an RST
 * (RFC 9293 §3.10.7.1) frees it at once. TLS and unix sockets have no reset: destroyed.
 */
function abort (s: Duplex): void {
  if (s instanceof Socket && !(s instanceof TLSSocket) && !s.destroyed) {
    try { s.resetAndDestroy(); return } catch { /* not a TCP handle (a unix socket) */ }
  }
  s.destroy()
}

/**
 * Send one upgrade request to the daemon and connect the client to whatever comes back.
 * Resolves when both sockets are closed. It rejects only for arguments node:http refuses
 * (invalid path or header characters); network failures resolve with 502/504 after a
 * Docker-shaped JSON error has been written to the client.
 */
export async function pipeUpgrade (opts: PipeUpgradeOptions): Promise<PipeUpgradeResult> {
  const { client, target } = opts
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(opts.headers)) {
    const lower = name.toLowerCase()
    if (lower === 'content-length' || lower === 'transfer-encoding') continue
    headers[name] = value
  }
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'host')) {
    headers.Host = target.socketPath !== undefined ? 'docker' : new URL(target.origin).host
  }
  const body = opts.body ?? Buffer.alloc(0)
  // Always frame the body: a GET without one gets no header, anything else an explicit length,
  // so node:http never falls back to chunked encoding the daemon would have to unwrap.
  if (body.length > 0 || opts.method.toUpperCase() !== 'GET') headers['Content-Length'] = String(body.length)

  // Throws synchronously (ERR_UNESCAPED_CHARACTERS, ERR_INVALID_CHAR) on a bad path or header
  // value; that is a gateway bug, so let the promise reject.
  const upstreamReq = http.request({
    method: opts.method,
    path: opts.path,
    headers,
    setHost: false,
    maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024,
    createConnection: () => connectRaw(target)
  })

  return await new Promise<PipeUpgradeResult>((resolve) => {
    let settled = false
    let status = 0
    let bytesIn = 0
    let bytesOut = 0
    const countIn = (n: number): void => {
      bytesIn += n
      if (opts.meter !== undefined) opts.meter.bytesIn += n
    }
    const countOut = (n: number): void => {
      bytesOut += n
      if (opts.meter !== undefined) opts.meter.bytesOut += n
    }
    // The daemon connection, known from the start: after a non-101 answer with a length,
    // node:http considers the response done and detaches it from the request (the keep-alive
    // path, normally back to an agent, of which there is none), so upstreamReq.destroy() would
    // no longer reach it and it would stay open.
    let upstream: Duplex | undefined
    upstreamReq.on('socket', (socket: Duplex) => { upstream = socket })
    let responded = false
    const clientIsTls = client instanceof TLSSocket

    let headersTimer: NodeJS.Timeout | undefined
    const waitClosed = (sockets: Duplex[]): void => {
      const open = sockets.filter((s) => !s.closed)
      let left = open.length
      if (left === 0) { finish(); return }
      for (const s of open) {
        s.once('close', () => { if (--left === 0) finish() })
      }
    }
    const finish = (): void => {
      if (settled) return
      settled = true
      clearTimeout(headersTimer)
      opts.signal?.removeEventListener('abort', onAbort)
      resolve({ status, bytesIn, bytesOut })
    }
    const respond = (code: number, outcome: CallOutcome): boolean => {
      if (responded) return false
      responded = true
      status = code
      clearTimeout(headersTimer)
      try { opts.onResponse?.(code) } catch { /* an audit callback must not break the stream */ }
      try { opts.onOutcome?.(outcome) } catch { /* a breaker callback must not break the stream */ }
      return true
    }

    // The gateway's own answer when the daemon gave none: Docker's error shape (section 3 of
    // the endpoint reference) so the CLI prints "Error response from daemon: <message>".
    const failClient = (code: number, message: string, cause: Error): void => {
      upstreamReq.destroy()
      upstream?.destroy()
      if (!respond(code, { error: cause })) { client.destroy(); return }
      if (client.writable) {
        client.write(dockerErrorResponse(code, code === 504 ? 'Gateway Timeout' : 'Bad Gateway', message))
        endClient()
      } else {
        client.destroy()
      }
      waitClosed([client])
    }

    // Over TCP the end of the daemon's stream becomes a FIN (half-close) and the client closes
    // when it has read everything. Over TLS the connection is closed completely once the last
    // byte is flushed: close_notify ends the TLS session for good, and a client that waits for
    // the connection itself to close (issue 6: docker-py exec hanging until its read timeout)
    // must not be left waiting for a FIN that a half-open TLS socket never sends.
    const endClient = (): void => {
      if (client.writableEnded) return
      // Whatever the client still sends has nowhere to go; reading (and dropping) it is also
      // how its FIN, and so its close, is noticed.
      client.resume()
      if (clientIsTls) {
        client.end(() => client.destroy())
      } else {
        // Nothing more will be written; a client that never closes its side would pin the
        // socket forever, so once our last byte is flushed it gets a short linger.
        client.end(() => { setTimeout(() => client.destroy(), LINGER_MS).unref() })
      }
    }

    const onAbort = (): void => {
      upstreamReq.destroy()
      upstream?.destroy()
      client.destroy()
      if (!responded) respond(499, { clientAborted: true })
      waitClosed([client])
    }
    if (opts.signal?.aborted === true) {
      // Wire the error listener first so destroy() cannot raise an unhandled 'error'.
      upstreamReq.on('error', () => {})
      onAbort()
      return
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true })

    headersTimer = setTimeout(() => {
      const timeout = Object.assign(new Error('upgrade headers timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })
      failClient(504, `the Docker daemon did not answer within ${opts.headersTimeoutMs} ms`, timeout)
    }, opts.headersTimeoutMs)

    client.on('error', () => {
      // A client that vanishes only ends its own stream; handled by the 'close' wiring below.
    })
    // A client gone before the daemon answered: nobody is left to read the answer.
    const onEarlyClientClose = (): void => {
      if (!responded) {
        upstreamReq.destroy()
        upstream?.destroy()
        respond(499, { clientAborted: true })
        finish()
      }
    }
    client.once('close', onEarlyClientClose)

    upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
      if (responded) return
      failClient(502, `cannot reach the Docker daemon at ${target.url}: ${err.code ?? err.message}`, err)
    })

    upstreamReq.on('response', (res: IncomingMessage) => {
      // Not upgraded (e.g. 404 "No such container", 409 "is not running", or the 200 + raw
      // stream a daemon sends when the request had no Upgrade header): relay it as an ordinary
      // response delimited by closing the connection, then close both sides.
      const code = res.statusCode ?? 502
      if (!respond(code, {})) { res.destroy(); return }
      client.removeListener('close', onEarlyClientClose)
      let head = `HTTP/1.1 ${code} ${res.statusMessage ?? ''}\r\n`
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        const name = res.rawHeaders[i] as string
        if (HOP_BY_HOP.has(name.toLowerCase())) continue
        head += `${name}: ${res.rawHeaders[i + 1] as string}\r\n`
      }
      head += 'Connection: close\r\n\r\n'
      client.write(head)
      res.on('data', (chunk: Buffer) => { countOut(chunk.length) })
      res.pipe(client, { end: false })
      res.on('end', () => { endClient(); upstream?.destroy() })
      res.on('error', () => { client.destroy(); upstream?.destroy() })
      client.once('close', () => { res.destroy(); upstream?.destroy() })
      waitClosed(upstream !== undefined ? [client, upstream] : [client])
    })

    upstreamReq.on('upgrade', (res: IncomingMessage, socket: Duplex, upstreamHead: Buffer) => {
      upstream = socket
      if (!respond(res.statusCode ?? 101, {})) { socket.destroy(); return }
      client.removeListener('close', onEarlyClientClose)
      if (client.destroyed) { socket.destroy(); waitClosed([socket]); return }

      // The daemon's head, kept as sent (Content-Type tells raw from multiplexed framing).
      let head = `HTTP/1.1 ${res.statusCode ?? 101} ${res.statusMessage ?? ''}\r\n`
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        head += `${res.rawHeaders[i] as string}: ${res.rawHeaders[i + 1] as string}\r\n`
      }
      client.write(head + '\r\n')
      if (upstreamHead.length > 0) {
        countOut(upstreamHead.length)
        client.write(upstreamHead)
      }
      if (opts.clientHead.length > 0) {
        countIn(opts.clientHead.length)
        socket.write(opts.clientHead)
      }
      splice(client, socket)
      waitClosed([client, socket])
    })

    /**
     * Both directions with backpressure (pipe pauses the source when the destination's buffer
     * is full). A half-close travels as a half-close: the client's FIN (docker CLI CloseWrite
     * after stdin EOF) becomes upstream.end(), so the process sees EOF on stdin and can still
     * print its output; the daemon's end becomes endClient().
     */
    const splice = (c: Duplex, u: Duplex): void => {
      let upstreamEnded = false
      if (opts.keepAliveMs !== undefined && opts.keepAliveMs > 0) {
        for (const s of [c, u]) (s as Duplex & { setKeepAlive?: (on: boolean, delay: number) => void }).setKeepAlive?.(true, opts.keepAliveMs)
      }
      // One timer, pushed back by every byte either way; both sockets are destroyed when it fires.
      const idleMs = opts.idleTimeoutMs ?? 0
      const idle = idleMs > 0
        ? setTimeout(() => {
          try { opts.onIdle?.() } catch { /* a log callback must not keep the stream */ }
          abort(u)
          abort(c)
        }, idleMs)
        : undefined
      idle?.unref()
      const active = (): void => { idle?.refresh() }
      c.once('close', () => { clearTimeout(idle) })
      u.once('close', () => { clearTimeout(idle) })
      c.on('data', (chunk: Buffer) => { countIn(chunk.length); active() })
      u.on('data', (chunk: Buffer) => { countOut(chunk.length); active() })
      c.pipe(u, { end: false })
      u.pipe(c, { end: false })
      c.on('end', () => { if (!u.writableEnded) u.end() })
      u.on('end', () => {
        upstreamEnded = true
        // The daemon is done (the process exited); stdin has nowhere to go any more. Stop
        // writing it so a late write cannot fail and take the client's pending output with it.
        c.unpipe(u)
        c.resume()
        endClient()
      })
      u.on('error', () => { if (!upstreamEnded) c.destroy() })
      // A client that is gone entirely (RST, or both directions closed) cannot receive more.
      c.on('close', () => { u.destroy() })
      // The daemon closing without a clean end (reset) truncates the stream; tell the client.
      u.on('close', () => { if (!upstreamEnded) c.destroy() })
    }

    upstreamReq.end(body)
  })
}
