import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../src/config/schema'
import { AddressGate } from '../src/limits/address-gate'
import { addressKey } from '../src/limits/address-key'
import { IdleConnections } from '../src/limits/idle-connections'
import { PrincipalConnections } from '../src/limits/principal-connections'
import type { LimitLog } from '../src/limits/log-throttle'
import { StreamSlots } from '../src/limits/stream-slots'
import { defaultMaxConnections, parseOpenFileLimit } from '../src/limits/server'
import { ConnectionsExceeded, StreamsExceeded } from '../src/errors'

/**
 * Limits against exhaustion (issue 10 finding 2), wired to the server and the
 * request lifecycle; the decisions are the pure counters in src/limits/.
 *
 *  - total connections: server.maxConnections (net.Server closes the rest at
 *    accept and emits 'drop');
 *  - unauthenticated connections per client address (IPv6 per /64): counted on
 *    'connection', refused (destroyed) beyond the cap, no longer counted once a
 *    request on the connection authenticated (onRequest, after plugins/auth.ts);
 *  - open connections per principal: the first principal authenticated on a
 *    connection owns it until it closes; over the cap, the request is a 429
 *    with `Connection: close` and the connection is closed;
 *  - near the total cap, the longest-idle keep-alive connections are closed so
 *    that a new client is accepted (src/limits/idle-connections.ts says why
 *    not server.closeIdleConnections());
 *  - concurrent streams per principal: `fastify.streamLimits.hold()` before a
 *    stream is forwarded, released when the response closes, however it ends;
 *  - hijacked streams: TCP keepalive and an idle timeout, given to pipeUpgrade
 *    by `fastify.streamLimits.upgradeOptions()`.
 *
 * The header deadline is a server option (src/limits/server.ts, src/app.ts).
 */

export interface LimitsPluginOptions {
  limits: Config['limits']
  log: LimitLog
  /** /proc/self/limits text, for the default total cap (tests). */
  procLimits?: () => string
}

/** A response or socket: emits 'close' once, however it ends. */
export interface Closable {
  readonly destroyed: boolean
  on: (event: 'close', listener: () => void) => unknown
}

export interface UpgradeLimits {
  keepAliveMs: number
  idleTimeoutMs: number
  onIdle: () => void
}

export interface StreamLimits {
  /**
   * Take one of the principal's stream slots until `until` closes (the response of a
   * stream, or the socket of a hijacked one). Throws a 429 in Docker's shape when the
   * principal holds all of them; call it before anything is sent to the daemon.
   */
  hold: (request: FastifyRequest, until: Closable) => void
  /** Keepalive and idle timeout for a hijacked stream (pipeUpgrade options). */
  upgradeOptions: (request: FastifyRequest) => UpgradeLimits
  /** The effective total connection cap. */
  maxConnections: number
}

declare module 'fastify' {
  interface FastifyInstance {
    streamLimits: StreamLimits
  }
}

function readProcLimits (): string {
  try { return readFileSync('/proc/self/limits', 'utf8') } catch { return '' }
}

/** The same id for a TCP socket and the TLS socket over it: unique among open connections. */
function connectionId (socket: Socket): string | undefined {
  if (socket.remoteAddress === undefined) return undefined
  return `${socket.remoteAddress}|${socket.remotePort ?? ''}`
}

async function limitsPlugin (fastify: FastifyInstance, opts: LimitsPluginOptions): Promise<void> {
  const { limits, log } = opts
  const server = fastify.server

  const maxConnections = limits.maxConnections ?? defaultMaxConnections(parseOpenFileLimit((opts.procLimits ?? readProcLimits)()))
  server.maxConnections = maxConnections
  server.on('drop', (data?: { remoteAddress?: string }) => {
    log.hit('maxConnections', { ip: data?.remoteAddress, max: maxConnections },
      `connection refused: the gateway holds limits.maxConnections = ${maxConnections} connections`)
  })

  // HTTPS: a TLS handshake not done within the header deadline (src/limits/server.ts) is cut by
  // tls.Server, which destroys the socket after this event.
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code !== 'ERR_TLS_HANDSHAKE_TIMEOUT') return
    log.hit('headersTimeoutMs', { ip: socket.remoteAddress, max: limits.headersTimeoutMs },
      `connection closed: its TLS handshake was not complete within limits.headersTimeoutMs = ${limits.headersTimeoutMs} ms`)
  })

  const gate = new AddressGate(limits.maxConnectionsPerAddress)
  const owners = new PrincipalConnections(limits.connectionsPerPrincipal)
  const idle = new IdleConnections<Socket>(maxConnections)
  server.on('connection', (socket: Socket) => {
    const id = connectionId(socket)
    const address = socket.remoteAddress
    if (id === undefined || address === undefined) return
    const key = addressKey(address)
    if (!gate.admit(id, key)) {
      log.hit('maxConnectionsPerAddress', { ip: address, key, max: limits.maxConnectionsPerAddress },
        `connection refused: ${key} holds limits.maxConnectionsPerAddress = ${limits.maxConnectionsPerAddress} unauthenticated connections`)
      socket.destroy()
      return
    }
    idle.opened(id)
    // on, not once: 'close' comes once anyway, and once() allocates a wrapper per listener that a
    // connection holding a stream keeps for hours (issue 12: 5,000 held streams).
    socket.on('close', () => { gate.closed(id); owners.closed(id); idle.closed(id) })
    const reclaimed = idle.reclaim()
    if (reclaimed.length > 0) {
      log.hit('idleReclaimed', { ip: address, closed: reclaimed.length, max: maxConnections },
        `idle keep-alive connections closed: the gateway is near limits.maxConnections = ${maxConnections}`)
      for (const s of reclaimed) s.destroy()
    }
  })

  // Idle tracking: a request in flight (hijacked ones never end as a 'request') keeps its connection.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const id = connectionId(req.socket)
    if (id === undefined) return
    idle.requestStarted(id)
    res.on('close', () => { // on: see the socket's 'close' above
      // A response that closes its connection (Connection: close, an error) leaves nothing to reclaim.
      if (!req.socket.destroyed && res.writableFinished && res.shouldKeepAlive) idle.responseEnded(id, req.socket)
    })
  })

  // A hijacked stream (attach, exec start) arrives as 'upgrade', not 'request', possibly on a keep-alive
  // connection that was idle: from now on it carries a stream and is never idle again.
  server.on('upgrade', (req: IncomingMessage) => {
    const id = connectionId(req.socket)
    if (id !== undefined) idle.requestStarted(id)
  })

  // Registered after authenticate: a granted request has its principal by now.
  fastify.addHook('onRequest', (request, reply, done) => {
    const principal = request.gw.principal
    const id = connectionId(request.raw.socket)
    if (principal === undefined || id === undefined) { done(); return }
    if (owners.claim(id, principal) === 'over') {
      // Still unauthenticated for its address until it closes, which it does after this answer.
      log.hit('connectionsPerPrincipal', { principal, ip: request.ip, max: owners.maxPerPrincipal },
        `connection refused: ${principal} holds limits.connectionsPerPrincipal = ${owners.maxPerPrincipal} connections`)
      reply.raw.shouldKeepAlive = false
      void reply.header('connection', 'close')
      done(new ConnectionsExceeded(`too many open connections: at most ${owners.maxPerPrincipal} per principal; close or reuse one and retry`))
      return
    }
    gate.authenticated(id)
    done()
  })

  const slots = new StreamSlots(limits.streamsPerPrincipal)
  const streamLimits: StreamLimits = {
    maxConnections,
    hold (request, until) {
      // Already closed (the client left during the lookups): it would never release.
      if (until.destroyed) return
      const principal = request.gw.principal ?? `address ${request.ip}`
      const slot = slots.acquire(principal)
      if (slot === undefined) {
        log.hit('streamsPerPrincipal', { principal, max: slots.max },
          `stream refused: ${principal} holds limits.streamsPerPrincipal = ${slots.max} streams`)
        throw new StreamsExceeded(`too many concurrent streams: at most ${slots.max} per principal (logs, stats, export, wait, attach, exec); close one and retry`)
      }
      until.on('close', slot.release) // on: 'close' comes once; release is idempotent anyway
    },
    upgradeOptions (request) {
      return {
        keepAliveMs: limits.streamKeepAliveMs,
        idleTimeoutMs: limits.streamIdleTimeoutMs,
        onIdle: () => {
          request.gw.reason = `stream idle for ${limits.streamIdleTimeoutMs} ms: closed by the gateway`
          log.hit('streamIdleTimeoutMs', { principal: request.gw.principal, route: request.gw.route, container: request.gw.container },
            `stream closed: no byte in either direction for limits.streamIdleTimeoutMs = ${limits.streamIdleTimeoutMs} ms`)
        }
      }
    }
  }
  fastify.decorate('streamLimits', streamLimits)
}

export default fp(limitsPlugin, {
  name: 'docker-gateway-limits',
  fastify: '5.x',
  dependencies: ['docker-gateway-audit', 'docker-gateway-auth']
})
