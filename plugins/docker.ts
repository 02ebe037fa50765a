import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, preHandlerHookHandler } from 'fastify'
import type { Dispatcher } from 'undici'
import { routes, type RouteDef } from '../src/docker/routes'
import { imageName, ROUTE_PREFIXES, routeSchema, routeUrl } from '../src/docker/route-schemas'
import { ALL_HOSTS } from '../src/docker/names'
import { parseVersion, versionProblem, versionRange, type VersionRange } from '../src/docker/api-version'
import { encodeQuery, buildUpstreamPath } from '../src/docker/query'
import { decidedQuery, routeValidatorCompiler } from '../src/docker/route-validators'
import { bodyError, checkBody } from '../src/docker/body'
import { checkedTop, TOP_ANSWER_LIMIT, type TopFetch } from '../src/docker/top'
import { policyContext, vetBody } from '../src/docker/vet'
import { isAdmin } from '../src/auth/scopes'
import type { ContainerResolver } from '../src/ownership/resolver'
import type { GatewayMetrics } from '../src/metrics'
import type { Caller } from '../src/ownership/authorize'
import { applyOwnership, ownFilters } from '../src/ownership/call'
import type { DockerCall } from '../src/docker/call'
import { relay } from '../src/upstream/relay'
import { declaredTooLarge, limitedUpload, type Upload } from '../src/upstream/upload'
import type { Readable } from 'node:stream'
import type { HostRegistry, UpstreamHost } from '../src/upstream/hosts'
import type { Config } from '../src/config/schema'
import { DockerCpRefused, PageNotFound, policyDenied, QueryInvalid, topRefused, upstreamError, VersionUnsupported } from '../src/errors'
import { dockerCpRefusal } from '../src/docker/docker-cp'
import { requireScope } from './auth'
import { markWouldDeny } from '../src/audit/record'

/**
 * The Docker mirror: every row of the allow-list (src/docker/routes.ts) is a
 * fastify route under each prefix (route-schemas.ts), and the security path
 * is a chain of named hooks in request order:
 *
 *   preParsing    requireScope       the row's scope (after authentication, before the body is read)
 *   (validation)  route-validators   path parameters by their patterns, the query by the row's decisions (query.ts)
 *   preHandler    authorizeCall      in order: openCall (API version), applyPolicy (body check, policy),
 *                                    routeToHost (/hosts/{name} or the default, claim, breaker,
 *                                    version ceiling), checkOwnership (own containers, by full id)
 *   handler       sendToDaemon       relay (or the upgrade pipe, or top's checked answer)
 *
 * Authentication, the rate limit and the connection limits have run as the
 * root's onRequest hooks, the 401 and the canonical-path guard as its
 * preParsing hooks, before these. Nothing a hook
 * did not decide is forwarded: the upstream request is built from the
 * validated parts, never from the client's raw URL or bytes.
 */

export interface DockerOptions {
  config: Config
  hosts: HostRegistry
  resolver: ContainerResolver | undefined
  metrics?: GatewayMetrics
}

export type { DockerCall }

declare module 'fastify' {
  interface FastifyRequest {
    docker: DockerCall | null
  }
}

/** The docker cp rows (config dockerCp). */
const ARCHIVE_ROWS: ReadonlySet<string> = new Set(['container.archive', 'container.archiveStat', 'container.archivePut'])

type RouteParams = Partial<Record<'host' | 'version' | 'id' | 'exec' | '*', string>>

/**
 * Headers an upgrade request may carry to the daemon besides Connection and
 * Upgrade: the websocket handshake (golang.org/x/net/websocket checks Origin)
 * and the client's name. Credentials never go upstream.
 */
const UPGRADE_HEADERS = ['user-agent', 'origin', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol']
/** Headers every relayed call carries to the daemon; a row may name more (forwardHeaders: a pull's X-Registry-Auth). */
const SENT_HEADERS = ['user-agent']

/** The client's headers of these names that hold one value, for the daemon request; nothing else of the client's goes upstream. */
function namedHeaders (request: FastifyRequest, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const v = request.headers[name]
    if (typeof v === 'string') out[name] = v
  }
  return out
}

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

/**
 * Bodies are read raw (bounded by bodyLimit) and decided on by checkBody in
 * applyPolicy: the content-type switch belongs to the route. Registered in
 * each scope that reads bodies this way (this plugin, /policy/check).
 */
export function rawBodyParser (fastify: FastifyInstance, bodyLimit: number): void {
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => { done(null, body) })
}

/**
 * The scope of the rows whose body is a tar upload (docker cp): its body is
 * never read by a parser, whatever its Content-Type (the CLI sends
 * application/x-tar, docker-py none): the request stream is the body, piped
 * to the daemon by sendToDaemon once every hook has passed. An answer sent
 * before the upload was read to its end (a refusal, a 413) closes the
 * connection, so the rest of an upload nobody wants is not read to drain it.
 */
export function uploadScope (fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', (_req, payload, done) => { done(null, payload) })
  fastify.addHook('onSend', function closeUnreadUpload (request, reply, payload, done) {
    if (!request.raw.complete) void reply.header('connection', 'close')
    done(null, payload)
  })
}

/** A tar upload's body for the daemon request, bounded; an Error when its declared length is already over the limit. */
function tarUpload (request: FastifyRequest, reply: FastifyReply, maxBytes: number): Upload | Error {
  const tooLarge = declaredTooLarge(request.headers['content-length'], maxBytes)
  if (tooLarge !== undefined) return tooLarge
  return limitedUpload(request.body as Readable, maxBytes, () => { void reply.header('connection', 'close') })
}

/**
 * Opens the call on the request: the API version against the configured
 * range, and `_all` kept to the fleet routes. (The path parameters and the
 * query have been decided by the route's validators: route-validators.ts.)
 */
export function openCall (row: RouteDef, range: VersionRange, request: FastifyRequest): Error | undefined {
  request.gw.routeId = row.id
  const p = request.params as RouteParams
  // `_all` is served only by the fleet routes (plugins/fleet.ts); anything else under it is a path the gateway does not have.
  if (p.host === ALL_HOSTS) return new PageNotFound()
  const query = decidedQuery(request.query)
  const call: DockerCall = { row, params: query.params, containerRefs: [] }
  if (query.filters !== undefined) call.filters = query.filters
  request.docker = call
  if (p.version !== undefined) {
    const asked = parseVersion(p.version)
    // `/vfoo/...` is no version at all: a path dockerd does not have.
    if (asked === undefined) return new PageNotFound()
    const problem = versionProblem(asked, range.min, range.max)
    if (problem !== undefined) return new VersionUnsupported(problem)
    call.version = `${asked.major}.${asked.minor}`
  }
  const target = p.id ?? p.exec
  if (target !== undefined) {
    call.target = target
    request.gw.container = target
  }
  if (row.target === 'image') call.image = imageName(row, p['*'] ?? '')
  return undefined
}

async function docker (fastify: FastifyInstance, opts: DockerOptions): Promise<void> {
  const { config, hosts } = opts
  // Absent when ownership is disabled: every principal then sees every container.
  const resolver = opts.resolver
  const range = versionRange(config.apiVersionMin, config.apiVersionMax)

  rawBodyParser(fastify, config.bodyLimit)

  /**
   * preHandler: the call opened (version), its body and policy, its host, its
   * ownership, in that order; the first refusal answers. One hook running the
   * named steps: a hook each cost 2 to 4 % more CPU per request
   * (docs/benchmarks.md).
   */
  function authorizeCall (row: RouteDef): preHandlerHookHandler {
    return function authorizeCall (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
      const refused = openCall(row, range, request) ?? applyPolicy(request, request.docker as DockerCall) ?? routeToHost(request, request.docker as DockerCall)
      if (refused !== undefined) done(refused)
      else checkOwnership(request, request.docker as DockerCall, done)
    }
  }

  /** The body, present only where the route takes one, JSON, bounded, then the policy. */
  function applyPolicy (request: FastifyRequest, call: DockerCall): Error | undefined {
    const body = checkBody(call.row, request)
    if (!body.ok) return bodyError(body)
    // A route that takes no body has nothing for the policy to judge (unless its query is: a pull's reference).
    if (call.row.body === 'none' && call.row.queryPolicy === undefined) return undefined
    // The body is decoded as the daemon would and judged; what is forwarded
    // is the re-serialised, vetted object.
    const vetted = vetBody(call.row, body.raw, config.policy, policyContext(request.gw, config.ownership), call.params)
    if (!vetted.ok) return policyDenied(vetted.status, vetted.rule, vetted.message)
    // Report-only rules (policy.mode, policy.reportRules) broken: forwarded, and the audit line says would-deny.
    if (vetted.wouldDeny !== undefined) markWouldDeny(request.gw, vetted.wouldDeny)
    call.containerRefs = vetted.containerRefs
    if (vetted.body !== undefined) call.body = vetted.body
    if (vetted.decoded !== undefined) call.decoded = vetted.decoded
    if (vetted.volumeRefs !== undefined) call.volumeRefs = vetted.volumeRefs
    if (vetted.params !== undefined) call.params = vetted.params
    return undefined
  }

  /** The token's hosts claim (403), unknown name (404), open circuit (503 at once), the daemon's version ceiling. */
  function routeToHost (request: FastifyRequest, call: DockerCall): Error | undefined {
    const routed = hosts.route((request.params as RouteParams).host, request.gw.allowedHosts)
    if (!routed.ok) return routed.error
    const host = routed.host
    call.host = host
    request.gw.host = host.name
    if (ARCHIVE_ROWS.has(call.row.id)) {
      // docker cp only where the daemon is known safe from the copy races, or the operator says so.
      const refusal = dockerCpRefusal(config.dockerCp, host.health.version)
      if (refusal !== undefined) return new DockerCpRefused(refusal)
    }
    const asked = call.version !== undefined ? parseVersion(call.version) : undefined
    if (asked !== undefined && range.max === undefined && host.apiVersion !== undefined) {
      // Without a configured ceiling, the newest version this daemon reports
      // is the ceiling (learned from its /_ping Api-Version header).
      const problem = versionProblem(asked, range.min, parseVersion(host.apiVersion))
      if (problem !== undefined) return new VersionUnsupported(problem)
    }
    return undefined
  }

  /** A principal reaches only its own containers, addressed by full id; `done` once decided. */
  function checkOwnership (request: FastifyRequest, call: DockerCall, done: HookHandlerDoneFunction): void {
    if (resolver === undefined) { done(); return }
    const caller: Caller = { principal: request.gw.principal ?? '', admin: isAdmin(request.gw.scopes) }
    // What needs no daemon lookup (filters, or nothing owned named) is decided without a promise.
    const decided = ownFilters(call, caller, resolver)
    if (decided !== 'lookup') { done(decided); return }
    applyOwnership(call, resolver, caller, request.gw).then(() => { done() }, (err: Error & { statusCode?: number }) => {
      // A daemon that cannot be reached for the lookup is a 502/504 like any call to it.
      done(err.statusCode !== undefined ? err : upstreamError(err as NodeJS.ErrnoException, (call.host as UpstreamHost).name))
    })
  }

  /** The handler: the call goes to the daemon. */
  function sendToDaemon (request: FastifyRequest, reply: FastifyReply): void {
    const call = request.docker as DockerCall
    if (call.row.traffic === 'upgrade' && request.isUpgrade) {
      sendUpgrade(request, call).catch((err: Error) => { void reply.send(err) })
      return
    }
    if (call.row.id === 'container.top' && call.params.has('ps_args')) {
      sendCheckedTop(request, reply, call).catch((err: Error) => { void reply.send(err) })
      return
    }
    send(request, reply, call)
  }

  /**
   * `top` with ps_args: the caller's answer is read whole and sent only if
   * every row is one of the container's own processes (src/docker/top.ts,
   * issue 10 finding 1); the checks go through the host's client (host.call).
   */
  async function sendCheckedTop (request: FastifyRequest, reply: FastifyReply, call: DockerCall): Promise<void> {
    const host = call.host as UpstreamHost
    // The host's client: a daemon it cannot reach is a 502/504 and counts against its breaker.
    const fetchTop: TopFetch = async (path) => await host.call({ path, maxBytes: TOP_ANSWER_LIMIT })
    const fixed = buildUpstreamPath(call.row, call.target, call.version, '')
    const result = await checkedTop(fetchTop, fixed, buildUpstreamPath(call.row, call.target, call.version, encodeQuery(call.params)))
    if (result.kind === 'refused') throw topRefused(result.reason)
    request.gw.upstreamStatus = result.status
    await reply.code(result.status).type('application/json').send(result.body)
  }

  /**
   * attach and exec start with `Upgrade: tcp` (or attach/ws with `Upgrade:
   * websocket`): after the daemon's 101 the connection is a raw
   * bidirectional stream, piped both ways with half-close honoured.
   */
  async function sendUpgrade (request: FastifyRequest, call: DockerCall): Promise<void> {
    const row = call.row
    const host = call.host as UpstreamHost
    const upgrade = String(request.headers.upgrade ?? '').toLowerCase()
    const wanted = row.id === 'container.attachWs' ? 'websocket' : 'tcp'
    if (upgrade !== wanted) throw new QueryInvalid(`${row.template} upgrades only to "${wanted}"`)
    const path = buildUpstreamPath(row, call.target, call.version, encodeQuery(call.params, call.filters))
    const headers: Record<string, string> = { connection: 'Upgrade', upgrade, ...namedHeaders(request, UPGRADE_HEADERS) }
    if (call.body !== undefined) headers['content-type'] = 'application/json'
    // A stream slot of the principal's, released when the socket closes; 429 when none is left.
    fastify.streamLimits.hold(request, request.raw.socket)
    const { socket, head } = await request.upgradeSocket()
    const metrics = opts.metrics
    metrics?.streamOpened(host.name)
    try {
      // The host's upgrade: the handshake's outcome counts for its breaker and metrics.
      await host.upgrade({
        client: socket,
        clientHead: head,
        method: request.method,
        path,
        headers,
        body: call.body !== undefined ? Buffer.from(call.body) : undefined,
        headersTimeoutMs: host.timeouts.headers,
        onResponse: (status) => { request.gw.upstreamStatus = status },
        // Counted as the bytes flow: the audit line is written when the client
        // socket closes, which is before pipeUpgrade's promise settles.
        meter: request.gw,
        // TCP keepalive both ways, and both sides closed after limits.streamIdleTimeoutMs of silence.
        ...fastify.streamLimits.upgradeOptions(request)
      })
    } finally {
      metrics?.streamClosed(host.name)
    }
  }

  function send (request: FastifyRequest, reply: FastifyReply, call: DockerCall): void {
    const row = call.row
    const host = call.host as UpstreamHost
    const upload = row.body === 'tar' ? tarUpload(request, reply, config.limits.archiveUploadBytes) : undefined
    if (upload instanceof Error) { void reply.send(upload); return }
    const path = buildUpstreamPath(row, call.target ?? call.image, call.version, encodeQuery(call.params, call.filters))
    const headers = namedHeaders(request, SENT_HEADERS)
    Object.assign(headers, namedHeaders(request, row.forwardHeaders))
    if (call.body !== undefined) headers['content-type'] = 'application/json'
    // Never the client's type: dockerd's ParseForm would read a form-typed body as query parameters.
    if (upload !== undefined) headers['content-type'] = 'application/x-tar'
    const streaming = row.traffic !== 'short'
    let headersTimeout = host.timeouts.headers
    const t = call.params.get('t')
    if (t !== undefined && Number(t) > 0) {
      // stop/restart answer only after the container stopped: allow its grace period.
      headersTimeout += Number(t) * 1000
    }
    // A stream holds one of the principal's slots until its response closes; 429 when none is left.
    if (streaming) fastify.streamLimits.hold(request, reply.raw)
    const metrics = opts.metrics
    if (streaming) metrics?.streamOpened(host.name)
    const stream = streaming ? host.openStream() : undefined
    const rewriteError = hideOthersIds(request, row.id)
    relay({
      reply,
      dispatcher: stream !== undefined ? stream.dispatcher : host.short,
      hostName: host.name,
      method: request.method as Dispatcher.HttpMethod,
      path,
      headers,
      body: upload?.body ?? call.body,
      ...(upload !== undefined ? { refusal: upload.refusal } : {}),
      headersTimeout,
      bodyTimeout: streaming ? 0 : host.timeouts.body,
      stream: streaming,
      ...(rewriteError !== undefined ? { rewriteError } : {}),
      ...(call.onAnswer !== undefined ? { onAnswer: call.onAnswer } : {}),
      onDone: (stats) => {
        request.gw.upstreamStatus = stats.status
        request.gw.bytesOut = stats.bytesOut
        if (stats.clientAborted) request.gw.clientAborted = true
        if (stats.error !== undefined && !stats.clientAborted) request.log.warn({ err: stats.error, host: host.name }, 'upstream failed')
        stream?.release()
        hosts.record(host, stats)
        if (metrics !== undefined) {
          if (streaming) metrics.streamClosed(host.name)
          if (stats.status > 0) metrics.upstreamResponded(host.name, stats.headersSeconds)
        }
      }
    })
  }

  function addRow (scope: FastifyInstance, row: RouteDef): void {
    const preParsing = requireScope(row.scope, row.template)
    for (const prefix of ROUTE_PREFIXES) {
      scope.route({
        method: row.method,
        url: routeUrl(row, prefix),
        schema: { ...routeSchema(row, prefix), operationId: operationId(row, prefix), tags: ['docker'], security: [{ bearer: [row.scope] }, { mutualTLS: [] }] },
        config: { row },
        validatorCompiler: routeValidatorCompiler(row),
        preParsing,
        preHandler: authorizeCall(row),
        handler: sendToDaemon
      })
    }
  }
  for (const row of routes) if (row.body !== 'tar') addRow(fastify, row)
  await fastify.register(async (scope: FastifyInstance) => {
    uploadScope(scope)
    for (const row of routes) if (row.body === 'tar') addRow(scope, row)
  })
}

/** A unique OpenAPI operationId per row and prefix: `container.inspect`, `container.inspect@v`, `@host`, `@host+v` (@fastify/swagger suffixes HEAD rows with -head). */
function operationId (row: RouteDef, prefix: string): string {
  const suffix = prefix === '' ? '' : prefix === '/v:version' ? '@v' : prefix === '/hosts/:host' ? '@host' : '@host+v'
  return `${row.id}${suffix}`
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The allow-list row a mirrored route serves. */
    row?: RouteDef
  }
}

export default docker
