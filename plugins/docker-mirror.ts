import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Dispatcher } from 'undici'
import { matchRequest, parseVersion, compareVersions, type Matched, type VersionRange } from '../src/docker/match'
import { validateQuery, encodeQuery, buildUpstreamPath } from '../src/docker/query'
import { bodyError, checkBody } from '../src/docker/body'
import { checkedTop, TOP_ANSWER_LIMIT, type TopFetch } from '../src/docker/top'
import { policyContext, vetBody } from '../src/docker/vet'
import { rewriteContainerRef, type ContainerRef, type VolumeRef } from '../src/policy'
import { hasScope, isAdmin } from '../src/auth/scopes'
import type { ContainerResolver } from '../src/ownership/resolver'
import type { GatewayMetrics } from '../src/metrics'
import { authorizeContainer, authorizeExec, authorizeListFilters } from '../src/ownership/authorize'
import { claimVolumes } from '../src/ownership/volumes'
import { forward } from '../src/upstream/forward'
import { pipeUpgrade } from '../src/upstream/upgrade'
import type { HostRegistry, UpstreamHost } from '../src/upstream/hosts'
import type { Config } from '../src/config/schema'
import { BadRequest, Forbidden, NotFound, PageNotFound, statusError, upstreamError } from '../src/errors'

/**
 * The Docker mirror: one catch-all route whose handler walks the security
 * path in order. Everything before `forward` only reads and decides; the
 * upstream request is built from what those steps validated, never from the
 * client's raw URL or bytes.
 *
 *   allow-list -> scope -> query validation -> body check/policy -> host -> upstream stream
 *
 * (TLS, authentication and rate limiting have run as hooks before this.)
 */

export interface MirrorOptions {
  config: Config
  hosts: HostRegistry
  resolver: ContainerResolver | undefined
  metrics?: GatewayMetrics
}

/** Extension point for later steps (policy, ownership) that may rewrite the call. */
export interface PreparedCall {
  match: Matched
  host: UpstreamHost
  /** The container or exec the call addresses: as sent, then the resolved full id. */
  target: string | undefined
  /** Containers a create body joins (Links, VolumesFrom, container:<x> modes): must be the caller's. */
  containerRefs: ContainerRef[]
  /** Named volumes a create body mounts: must be the caller's (created owned by it when new). */
  volumeRefs?: VolumeRef[]
  /** The vetted body object, when refs must be rewritten to full ids before re-serialising. */
  decoded?: Record<string, unknown>
  params: Map<string, string>
  filters?: Record<string, string[]>
  body?: string
}

const ANY_METHOD = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']

/**
 * Headers an upgrade request may carry to the daemon besides Connection and
 * Upgrade: the websocket handshake (golang.org/x/net/websocket checks Origin)
 * and the client's name. Credentials never go upstream.
 */
const UPGRADE_HEADERS = ['user-agent', 'origin', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol']

/**
 * The daemon's name-conflict error names the container holding the name
 * ("... is already in use by container \"<id>\""): for a caller who does
 * not own it, that id is another principal's. Replaced by a neutral phrase.
 */
const CONFLICT_ROUTES = new Set(['container.create', 'container.rename'])
function hideOthersIds (request: FastifyRequest, routeId: string): ((status: number, body: Buffer) => Buffer) | undefined {
  if (!CONFLICT_ROUTES.has(routeId) || isAdmin(request.gw.scopes)) return undefined
  return (status, body) => status === 409 ? Buffer.from(body.toString('utf8').replace(/by container \\?"?[0-9a-f]{64}\\?"?/g, 'by another container')) : body
}

async function dockerMirror (fastify: FastifyInstance, opts: MirrorOptions): Promise<void> {
  const { config, hosts } = opts
  // Absent when ownership is disabled: every principal then sees every container.
  const resolver = opts.resolver
  const range: VersionRange = { min: parseVersion(config.apiVersionMin) ?? { major: 1, minor: 24 } }
  const max = config.apiVersionMax !== undefined ? parseVersion(config.apiVersionMax) : undefined
  if (max !== undefined) range.max = max

  // Bodies are read raw (bounded by bodyLimit) and decided on by checkBody:
  // the content-type switch belongs to the route, not to a global parser.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.bodyLimit }, (_req, body, done) => { done(null, body) })

  fastify.route({ method: ANY_METHOD, url: '/*', handler: mirror })

  async function mirror (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const gw = request.gw

    // 1. allow-list: the route table, canonical path only.
    const match = matchRequest(request.method, request.raw.url ?? '/', range)
    if (!match.ok) {
      gw.reason = match.status === 404 ? 'not in allow-list' : match.message
      throw match.status === 404 && match.message === 'page not found' ? new PageNotFound() : match.status === 404 ? new NotFound(match.message) : new BadRequest(match.message)
    }
    const route = match.route
    gw.route = route.template
    gw.routeId = route.id
    if (match.target !== undefined) gw.container = match.target

    // 2. scope.
    if (!hasScope(gw.scopes, route.scope)) {
      gw.reason = `missing scope ${route.scope}`
      throw new Forbidden(`token lacks the scope "${route.scope}" needed for ${route.template}`)
    }

    // 3. query validation.
    const query = validateQuery(route, match.rawQuery)
    if (!query.ok) throw new BadRequest(query.message)

    // 4. body: present only where the route takes one, JSON, bounded.
    const body = checkBody(route, request)
    if (!body.ok) throw bodyError(body)

    // 5. policy: the body is decoded as the daemon would and judged; what is
    //    forwarded is the re-serialised, vetted object.
    const vetted = vetBody(route, body.raw, config.policy, policyContext(gw, config.ownership))
    if (!vetted.ok) {
      gw.reason = `policy: ${vetted.rule}`
      throw vetted.status === 403 ? new Forbidden(vetted.message) : new BadRequest(vetted.message)
    }

    // 6. host routing: token's hosts claim (403), unknown name (404), open circuit (503 at once).
    const routed = hosts.route(match.host, gw.allowedHosts)
    if (!routed.ok) {
      gw.reason = routed.reason
      throw routed.error
    }
    const host = routed.host
    gw.host = host.name
    if (match.version !== undefined && range.max === undefined) {
      // Without a configured ceiling, the newest version this daemon reports
      // is the ceiling (learned from its /_ping Api-Version header).
      const reported = host.apiVersion !== undefined ? parseVersion(host.apiVersion) : undefined
      const asked = parseVersion(match.version)
      if (reported !== undefined && asked !== undefined && compareVersions(asked, reported) > 0) {
        throw new BadRequest(`client version ${match.version} is too new. Maximum supported API version is ${host.apiVersion as string}`)
      }
    }

    const call: PreparedCall = { match, host, params: query.params, target: match.target, containerRefs: vetted.containerRefs }
    if (query.filters !== undefined) call.filters = query.filters
    if (vetted.body !== undefined) call.body = vetted.body
    if (vetted.decoded !== undefined) call.decoded = vetted.decoded
    if (vetted.volumeRefs !== undefined) call.volumeRefs = vetted.volumeRefs

    // 7. ownership: a principal reaches only its own containers, addressed by full id.
    if (resolver !== undefined) {
      try {
        await applyOwnership(request, call)
      } catch (err) {
        // A daemon that cannot be reached for the lookup is a 502/504 like any call to it.
        if ((err as { statusCode?: number }).statusCode !== undefined) throw err
        throw upstreamError(err as NodeJS.ErrnoException, host.name)
      }
    }

    if (route.traffic === 'upgrade' && request.isUpgrade) {
      await sendUpgrade(request, call)
      return
    }
    if (route.id === 'container.top' && call.params.has('ps_args')) {
      await sendCheckedTop(request, reply, call)
      return
    }
    send(request, reply, call)
  }

  /**
   * `top` with ps_args: the caller's answer is read whole and sent only if
   * every row is one of the container's own processes (src/docker/top.ts,
   * issue 10 finding 1); the checks go through the host's client (host.call).
   */
  async function sendCheckedTop (request: FastifyRequest, reply: FastifyReply, call: PreparedCall): Promise<void> {
    const route = call.match.route
    const host = call.host
    // The host's client: a daemon it cannot reach is a 502/504 and counts against its breaker.
    const fetchTop: TopFetch = async (path) => await host.call({ path, maxBytes: TOP_ANSWER_LIMIT })
    const fixed = buildUpstreamPath(route, call.target, call.match.version, '')
    const result = await checkedTop(fetchTop, fixed, buildUpstreamPath(route, call.target, call.match.version, encodeQuery(call.params)))
    if (result.kind === 'refused') {
      request.gw.reason = `top answer refused: ${result.reason}`
      throw statusError(502, 'the daemon\'s top answer for these ps_args lists processes that are not provably this container\'s; refused by the gateway')
    }
    request.gw.upstreamStatus = result.status
    await reply.code(result.status).type('application/json').send(result.body)
  }

  /**
   * attach and exec start with `Upgrade: tcp` (or attach/ws with `Upgrade:
   * websocket`): after the daemon's 101 the connection is a raw
   * bidirectional stream, piped both ways with half-close honoured.
   */
  async function sendUpgrade (request: FastifyRequest, call: PreparedCall): Promise<void> {
    const route = call.match.route
    const upgrade = String(request.headers.upgrade ?? '').toLowerCase()
    const wanted = route.id === 'container.attachWs' ? 'websocket' : 'tcp'
    if (upgrade !== wanted) throw new BadRequest(`${route.template} upgrades only to "${wanted}"`)
    const path = buildUpstreamPath(route, call.target, call.match.version, encodeQuery(call.params, call.filters))
    const headers: Record<string, string> = { connection: 'Upgrade', upgrade }
    for (const name of UPGRADE_HEADERS) {
      const v = request.headers[name]
      if (typeof v === 'string') headers[name] = v
    }
    if (call.body !== undefined) headers['content-type'] = 'application/json'
    // A stream slot of the principal's, released when the socket closes; 429 when none is left.
    fastify.streamLimits.hold(request, request.raw.socket)
    const { socket, head } = await request.upgradeSocket()
    const metrics = opts.metrics
    metrics?.streamOpened(call.host.name)
    try {
      await pipeUpgrade({
        client: socket,
        clientHead: head,
        target: call.host.target,
        method: request.method,
        path,
        headers,
        body: call.body !== undefined ? Buffer.from(call.body) : undefined,
        headersTimeoutMs: call.host.timeouts.headers,
        onResponse: (status) => { request.gw.upstreamStatus = status },
        // Counted as the bytes flow: the audit line is written when the client
        // socket closes, which is before pipeUpgrade's promise settles.
        meter: request.gw,
        // TCP keepalive both ways, and both sides closed after limits.streamIdleTimeoutMs of silence.
        ...fastify.streamLimits.upgradeOptions(request)
      })
    } finally {
      metrics?.streamClosed(call.host.name)
    }
  }

  async function applyOwnership (request: FastifyRequest, call: PreparedCall): Promise<void> {
    const gw = request.gw
    const caller = { principal: gw.principal ?? '', admin: isAdmin(gw.scopes) }
    const r = resolver as ContainerResolver
    const route = call.match.route
    if (route.target === 'container' && call.target !== undefined) {
      const d = await authorizeContainer(r, call.host, call.target, caller)
      if (!d.ok) {
        gw.reason = d.status === 404 ? 'not owner or no such container' : `resolve failed (${d.status})`
        throw statusError(d.status, d.message)
      }
      call.target = d.id
      gw.container = d.id
    } else if (route.target === 'exec' && call.target !== undefined) {
      const d = await authorizeExec(r, call.host, call.target, caller)
      if (!d.ok) {
        gw.reason = d.status === 404 ? 'not owner or no such exec' : `resolve failed (${d.status})`
        throw statusError(d.status, d.message)
      }
    } else if (call.containerRefs.length > 0 && call.decoded !== undefined) {
      for (const ref of call.containerRefs) {
        const d = await authorizeContainer(r, call.host, ref.ref, caller)
        if (!d.ok) {
          gw.reason = `policy: container-ref ${ref.field}`
          // A join of a container the caller cannot see: refuse without saying whether it exists.
          throw new Forbidden(`policy denied: ${ref.field} names container "${ref.ref}", which you do not own (rule: container-ref)`)
        }
        rewriteContainerRef(call.decoded, ref, d.id)
      }
      call.body = JSON.stringify(call.decoded)
    } else if (route.id === 'container.list') {
      const d = await authorizeListFilters(r, call.host, call.filters, caller)
      if (!d.ok) {
        gw.reason = 'filter names a container the caller does not own'
        throw statusError(d.status, d.message)
      }
      if (d.filters !== undefined) call.filters = d.filters
    }
    // Named volumes, last (it may create them): each must be the caller's (src/ownership/volumes.ts).
    const volumes = await claimVolumes(call.host, call.volumeRefs ?? [], caller, r.ownerLabel)
    if (!volumes.ok) {
      gw.reason = volumes.reason
      throw volumes.status === 403 ? new Forbidden(volumes.message) : statusError(volumes.status, volumes.message)
    }
  }

  function send (request: FastifyRequest, reply: FastifyReply, call: PreparedCall): void {
    const route = call.match.route
    const path = buildUpstreamPath(route, call.target, call.match.version, encodeQuery(call.params, call.filters))
    const headers: Record<string, string> = {}
    const ua = request.headers['user-agent']
    if (ua !== undefined) headers['user-agent'] = ua
    let body: string | undefined
    if (call.body !== undefined) {
      body = call.body
      headers['content-type'] = 'application/json'
    }
    const streaming = route.traffic !== 'short'
    let headersTimeout = call.host.timeouts.headers
    const t = call.params.get('t')
    if (t !== undefined && Number(t) > 0) {
      // stop/restart answer only after the container stopped: allow its grace period.
      headersTimeout += Number(t) * 1000
    }
    // A stream holds one of the principal's slots until its response closes; 429 when none is left.
    if (streaming) fastify.streamLimits.hold(request, reply.raw)
    reply.hijack()
    const metrics = opts.metrics
    if (streaming) metrics?.streamOpened(call.host.name)
    const stream = streaming ? call.host.openStream() : undefined
    forward({
      res: reply.raw,
      dispatcher: stream !== undefined ? stream.dispatcher : call.host.short,
      hostName: call.host.name,
      method: request.method as Dispatcher.HttpMethod,
      path,
      headers,
      body,
      headersTimeout,
      bodyTimeout: streaming ? 0 : call.host.timeouts.body,
      flushHeaders: streaming,
      rewriteError: hideOthersIds(request, route.id),
      onDone: (stats) => {
        request.gw.upstreamStatus = stats.status
        request.gw.bytesOut = stats.bytesOut
        if (stats.clientAborted) request.gw.clientAborted = true
        if (stats.error !== undefined && !stats.clientAborted) request.log.warn({ err: stats.error, host: call.host.name }, 'upstream failed')
        stream?.release()
        hosts.record(call.host, stats)
        if (metrics !== undefined) {
          if (streaming) metrics.streamClosed(call.host.name)
          if (stats.status > 0) metrics.upstreamResponded(call.host.name, stats.headersSeconds)
        }
      }
    })
  }
}

export default fp(dockerMirror, {
  name: 'docker-gateway-mirror',
  fastify: '5.x',
  dependencies: ['docker-gateway-request-context', 'docker-gateway-errors']
})
