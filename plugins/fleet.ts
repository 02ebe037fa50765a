import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { matchRequest, parseVersion, type VersionRange } from '../src/docker/match'
import { validateQuery } from '../src/docker/query'
import { hasScope } from '../src/auth/scopes'
import { fanOutContainerList, type FiltersTransform } from '../src/upstream/fanout'
import type { HostRegistry, UpstreamHost } from '../src/upstream/hosts'
import type { Config } from '../src/config/schema'
import { BadRequest, Forbidden, NotFound, PageNotFound } from '../src/errors'

/**
 * The fleet view (issue 5): `GET /hosts` (which daemons the caller may
 * reach and how they are doing) and `GET /hosts/_all/containers/json` (the
 * container list of all of them). Also starts the hosts' background health
 * checks once the server is ready.
 *
 * These are static routes, so find-my-way prefers them over the mirror's
 * catch-all `/*` whatever the registration order; authentication runs first
 * as for every route (it is an onRequest hook of the root instance).
 */

export interface FleetOptions {
  config: Config
  hosts: HostRegistry
  /**
   * Per-call filters rewrite for the fan-out (ownership filters): given the
   * request, return the per-host transform, or undefined to leave filters as sent.
   */
  listFilters?: (request: FastifyRequest) => FiltersTransform | undefined
}

/** Response header naming the hosts that failed a fan-out, comma-separated. */
export const FAILED_HOSTS_HEADER = 'x-docker-gateway-failed-hosts'

const ANY_METHOD = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']
const ALL_PREFIX = '/hosts/_all'

export interface HostView {
  Name: string
  State: string
  Default: boolean
  Version: string | null
  ApiVersion: string | null
  LastCheck: string | null
  LatencyMs: number | null
  Circuit: string
  Error: string | null
}

export function hostView (h: UpstreamHost, defaultHost: string): HostView {
  const health = h.health
  return {
    Name: h.name,
    State: health.state,
    Default: h.name === defaultHost,
    Version: health.version ?? null,
    ApiVersion: health.apiVersion ?? null,
    LastCheck: health.lastCheck !== undefined ? new Date(health.lastCheck).toISOString() : null,
    LatencyMs: health.latencyMs !== undefined ? Math.round(health.latencyMs * 10) / 10 : null,
    Circuit: h.breaker.state,
    Error: health.error ?? (h.breaker.state !== 'closed' ? h.breaker.reason : null)
  }
}

async function fleet (fastify: FastifyInstance, opts: FleetOptions): Promise<void> {
  const { config, hosts } = opts
  const range: VersionRange = { min: parseVersion(config.apiVersionMin) ?? { major: 1, minor: 24 } }
  const max = config.apiVersionMax !== undefined ? parseVersion(config.apiVersionMax) : undefined
  if (max !== undefined) range.max = max

  fastify.addHook('onReady', async () => { await hosts.startHealthChecks() })
  // The registry's own close (app.ts) stops the checks too; stopping here
  // first keeps a check from starting against pools being closed.
  fastify.addHook('preClose', async () => { await hosts.stopHealthChecks() })

  function requireRead (request: FastifyRequest, what: string): void {
    if (!hasScope(request.gw.scopes, 'containers:read')) {
      request.gw.reason = 'missing scope containers:read'
      throw new Forbidden(`token lacks the scope "containers:read" needed for ${what}`)
    }
  }

  fastify.get('/hosts', async (request) => {
    request.gw.route = 'GET /hosts'
    requireRead(request, 'GET /hosts')
    return hosts.reachable(request.gw.allowedHosts).map(h => hostView(h, hosts.defaultHost))
  })

  fastify.route({ method: ANY_METHOD, url: `${ALL_PREFIX}/*`, handler: fanOut })

  async function fanOut (request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const gw = request.gw
    const raw = request.raw.url ?? '/'
    // Same canonical matching as the mirror, on what follows the prefix.
    const match = matchRequest(request.method, raw.slice(ALL_PREFIX.length), range, false)
    if (!match.ok) {
      gw.reason = match.status === 404 ? 'not in allow-list' : match.message
      throw match.status === 404 && match.message === 'page not found' ? new PageNotFound() : match.status === 404 ? new NotFound(match.message) : new BadRequest(match.message)
    }
    // Only the container list fans out; anything else under _all does not exist.
    if (match.route.id !== 'container.list') {
      gw.reason = 'not in allow-list'
      throw new PageNotFound()
    }
    gw.route = `GET ${ALL_PREFIX}${match.route.template.replace(/^GET /, '')}`
    gw.routeId = 'fleet.containers.list'
    gw.host = '_all'
    requireRead(request, gw.route)
    const query = validateQuery(match.route, match.rawQuery)
    if (!query.ok) throw new BadRequest(query.message)

    const targets = hosts.reachable(gw.allowedHosts)
    const result = await fanOutContainerList({
      hosts: targets,
      route: match.route,
      version: match.version,
      params: query.params,
      filters: query.filters,
      transformFilters: opts.listFilters?.(request),
      deadlineMs: config.fleet?.deadlineMs ?? 5000,
      signal: request.signal,
      userAgent: request.headers['user-agent']
    })
    if (result.failed.length > 0) {
      request.log.warn({ failed: result.failed }, 'fleet list: some hosts failed')
      void reply.header(FAILED_HOSTS_HEADER, result.failed.map(f => f.host).join(','))
    }
    return result.items
  }
}

export default fp(fleet, {
  name: 'docker-gateway-fleet',
  fastify: '5.x',
  dependencies: ['docker-gateway-request-context', 'docker-gateway-errors']
})
