import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { ServerOptions as HttpServerOptions } from 'node:http'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import type { Config } from './config/schema'
import { HostRegistry } from './upstream/hosts'
import { dockerClientErrorHandler } from './client-error'
import { dockerErrorBody } from './errors'
import { LimitLog } from './limits/log-throttle'
import { serverTimeouts } from './limits/server'
import limits from '../plugins/limits'
import { ContainerResolver } from './ownership/resolver'
import { ownedListFilters } from './ownership/authorize'
import auditContext from '../plugins/audit'
import errors from '../plugins/errors'
import openapi from '../plugins/openapi'
import canonicalPath from '../plugins/canonical-path'
import health from '../plugins/health'
import authenticate, { authenticateOptions } from '../plugins/auth'
import rateLimit, { rateLimitOptions } from '../plugins/rate-limit'
import { createAudit, loggerOptions, type Audit } from './audit/logger'
import { lazyChildLoggerFactory } from './audit/request-logger'
import type { DestinationStream } from 'pino'
import docker from '../plugins/docker'
import { parseQuery } from './docker/query'
import policyCheck from '../plugins/policy'
import tokenRevocation from '../plugins/token-revocation'
import { RevocationList } from './auth/revocation'
import { openRevocationStore } from './auth/revocation-store'
import { redisDownMode, redisReadiness, revocationUnconfirmed } from './redis-down'
import upgrade from '../plugins/upgrade'
import metricsRoute from '../plugins/metrics'
import { GatewayMetrics } from './metrics'
import fleet from '../plugins/fleet'
import hostsPlugin from '../plugins/hosts'
import clusterPlugin from '../plugins/cluster'
import type { WorkerLink } from './cluster/worker-link'
import { ipcRateStore } from './cluster/ipc-rate-store'

export interface BuildOptions {
  config: Config
  /** HS256 secret for bearer tokens when the config names no key (the CLI's data-folder secret; tests). */
  jwtSecret?: string
  /** TLS material; absent means plain HTTP (GATEWAY_TLS=off). */
  https?: HttpsServerOptions
  /** Logger options (tests pass `{ level, stream }`); redaction is always added. */
  logger?: FastifyServerOptions['logger']
  /** Where audit lines go instead of config.audit.destination (tests). */
  auditStream?: DestinationStream
  /** Re-reads the configuration on SIGHUP (host list reload); default loadConfig(process.env). */
  reloadConfig?: () => Config
  /** One worker of several (`workers`): its channel to the primary, and whether it runs the health checks. */
  cluster?: { link: WorkerLink, leader: boolean, id: number }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The audit destination (reopen after log rotation). */
    audit: Audit
    /** The daemons behind the gateway, with their health (the start banner reads it). */
    dockerHosts: HostRegistry
  }
}

/** `req-<worker>-<n>`: fastify's own `req-<n>`, numbered per worker. */
function workerRequestIds (worker: number): () => string {
  let n = 0
  return () => `req-${worker}-${(++n).toString(36)}`
}

/** Paths outside the Docker namespace that answer without a user's credentials. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/openapi.json'])

/**
 * /metrics skips user authentication only when it has its own scrape token
 * (metrics.token), which the route checks itself; otherwise it needs a valid
 * user token with the admin scope like anything else.
 */
export function publicPaths (config: Config): ReadonlySet<string> {
  return config.metrics.token !== undefined ? new Set([...PUBLIC_PATHS, '/metrics']) : PUBLIC_PATHS
}

/**
 * Assemble the gateway. The registration order below is the security model:
 * hooks run in this order for every request.
 *
 *   TLS (server) -> request context -> authentication (identify) -> rate limit
 *   -> authentication (401 if unidentified, before the body is read) -> limits
 *   -> canonical path -> route (the allow-list, find-my-way) -> scope
 *   -> validation -> policy -> host -> ownership -> upstream (plugins/docker.ts)
 */
export async function buildApp (opts: BuildOptions): Promise<FastifyInstance> {
  const { config } = opts
  // The audit writer and the limit log exist before the server: Node's HTTP parser rejects
  // some requests (and cuts slow heads) before fastify sees them, in the clientError handler
  // given to the server's constructor, and those get their audit line too (finding 10).
  const audit = createAudit(config, opts.auditStream, opts.logger)
  let app: FastifyInstance | undefined
  const limitLog = new LimitLog(() => app?.log, config.limits.logIntervalMs)
  const timeouts = serverTimeouts(config.limits)
  const serverOptions: FastifyServerOptions & { https?: HttpsServerOptions, http?: HttpServerOptions } = {
    logger: loggerOptions(config, opts.logger),
    // One line per request is written by plugins/audit.ts, with the audit fields.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log is built only if a request logs something besides its audit line.
    childLoggerFactory: lazyChildLoggerFactory,
    bodyLimit: config.bodyLimit,
    // Request ids in audit lines stay unique when several workers write them.
    ...(opts.cluster !== undefined ? { genReqId: workerRequestIds(opts.cluster.id) } : {}),
    return503OnClosing: true,
    // Docker clients keep connections alive between calls (limits.keepAliveTimeoutMs).
    keepAliveTimeout: timeouts.keepAliveTimeout,
    // The whole request, head and body, from the client; 0 is off (fastify's and so Node's).
    requestTimeout: timeouts.requestTimeout,
    // The header deadline before authentication: headersTimeout, checked often enough to mean it.
    http: timeouts.node,
    trustProxy: false,
    // The allow-list has its own HEAD rows (/_ping); a GET is not also a HEAD.
    exposeHeadRoutes: false,
    // One value per name, the first, as dockerd's url.Values.Get reads it.
    // Container names up to 256 characters (find-my-way's default stops at 100).
    routerOptions: { querystringParser: parseQuery, maxParamLength: 256 },
    // What the router refuses before any hook runs (a malformed or over-long
    // path part): a Docker-shaped answer that does not echo the path, and its
    // audit line, as for a request Node's parser refused.
    frameworkErrors: (error, request, reply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      const body = dockerErrorBody(tooLong ? 'invalid request path: a path segment is longer than 256 characters' : 'invalid request path')
      const status: 400 | 414 = tooLong ? 414 : 400
      audit.reject({ ip: request.ip, reason: `router: ${error.code}`, status, bytesIn: 0, bytesOut: body.length })
      // The raw response: fastify's reply is typed for the routes' schemas, this one has none.
      reply.raw.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length })
      reply.raw.end(body)
    },
    clientErrorHandler: dockerClientErrorHandler({
      audit: audit.reject,
      headerDeadline: (ip) => {
        limitLog.hit('headersTimeoutMs', { ip, max: config.limits.headersTimeoutMs },
          `request refused: its head was not complete within limits.headersTimeoutMs = ${config.limits.headersTimeoutMs} ms (answered 408)`)
      }
    })
  }
  // https.createServer takes http.createServer's options next to the TLS ones.
  if (opts.https !== undefined) serverOptions.https = { ...opts.https, ...timeouts.node, handshakeTimeout: timeouts.tlsHandshakeTimeout }
  app = Fastify(serverOptions) as unknown as FastifyInstance

  const metrics = config.metrics.enabled ? new GatewayMetrics() : undefined
  // Every call a host's client makes reports its latency to the metrics.
  const hosts = new HostRegistry(config, metrics !== undefined ? { observer: metrics } : {})
  app.addHook('onClose', async () => { await hosts.close() })

  app.addHook('onClose', async () => { await audit.close() })
  app.decorate('audit', audit)
  app.decorate('dockerHosts', hosts)
  await app.register(auditContext, {
    write: audit.write,
    ...(metrics !== undefined ? { observe: metrics.observeRequest } : {})
  })
  await app.register(errors, { bodyLimit: config.bodyLimit })
  // Before any route: it collects the routes' schemas as they are added.
  await app.register(openapi)
  // Upgrade requests (attach, exec start) go through the same hooks as any other.
  await app.register(upgrade, { requestTimeoutMs: config.upstreamTimeouts.headers })
  // The revoked jtis, shared with the other replicas and `docker-gateway token revoke`.
  const log = app.log
  const revocations = new RevocationList(openRevocationStore(config), (err, message) => { log.warn({ err: { message: err.message } }, message) })
  app.addHook('onClose', async () => { await revocations.close() })
  try {
    await revocations.start({ tolerateFailure: config.redisUrl !== undefined })
  } catch (err) {
    await app.close()
    throw err
  }
  // What a Redis that does not answer means (config redisDown) for tokens and /readyz; the
  // rate limit reads it from its options. Open mode adds nothing to the request path.
  const closed = redisDownMode(config) === 'closed'
  await app.register(health, { hosts, ...(closed ? { notReady: () => redisReadiness('closed', revocations.readAgoMs()) } : {}) })
  const open = publicPaths(config)
  const revocationCheck = closed
    ? { isRevoked: (jti: string) => revocations.isRevoked(jti), unconfirmed: () => revocationUnconfirmed('closed', revocations.readAgoMs()) }
    : revocations
  await app.register(authenticate, { ...authenticateOptions(config, opts.jwtSecret, open), revocations: revocationCheck })
  // Several workers without Redis count in the primary: one limit for the gateway, not one per worker.
  const sharedStore = opts.cluster !== undefined && config.redisUrl === undefined ? ipcRateStore(opts.cluster.link) : undefined
  await app.register(rateLimit, { ...rateLimitOptions(config, open), ...(sharedStore !== undefined ? { store: sharedStore } : {}) })
  // After authentication: a connection whose request authenticated stops counting per address.
  await app.register(limits, { limits: config.limits, log: limitLog })
  // The allow-list's first check, over the raw URL, before any route's own hooks.
  await app.register(canonicalPath)
  // One resolver (and its id -> owner cache) for every route that addresses containers.
  const resolver = config.ownership.enabled
    ? new ContainerResolver({ ownerLabel: config.ownership.label, maxEntries: config.ownership.cacheSize, timeoutMs: config.upstreamTimeouts.headers })
    : undefined
  await app.register(fleet, { config, hosts, listFilters: resolver !== undefined ? ownedListFilters(resolver) : undefined })
  if (opts.cluster !== undefined) await app.register(clusterPlugin, { ...opts.cluster, hosts })
  await app.register(hostsPlugin, { hosts, ...(opts.reloadConfig !== undefined ? { load: opts.reloadConfig } : {}) })
  await app.register(policyCheck, { config })
  await app.register(tokenRevocation, { list: revocations })
  if (metrics !== undefined) await app.register(metricsRoute, { metrics, token: config.metrics.token })
  await app.register(docker, { config, hosts, resolver, metrics })
  return app
}
