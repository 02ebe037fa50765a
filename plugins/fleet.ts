import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { routes, type RouteDef } from '../src/docker/routes'
import { routeSchema } from '../src/docker/route-schemas'
import { routeValidatorCompiler } from '../src/docker/route-validators'
import { openCall, type DockerCall } from './docker'
import { versionRange } from '../src/docker/api-version'
import { requireScope } from './auth'
import { fanOutContainerList, type FiltersTransform } from '../src/upstream/fanout'
import type { HostRegistry, UpstreamHost } from '../src/upstream/hosts'
import type { Config } from '../src/config/schema'

/**
 * The fleet view (issue 5): `GET /hosts` (which daemons the caller may
 * reach and how they are doing) and `GET /hosts/_all/containers/json` (the
 * container list of all of them). (The health checks are plugins/hosts.ts'.)
 *
 * These are static routes, so find-my-way prefers them over the mirror's
 * `/hosts/:host/...` routes whatever the registration order; authentication
 * runs first as for every route (it is an onRequest hook of the root).
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

  fastify.get('/hosts', {
    schema: { tags: ['gateway'], operationId: 'hosts.list', summary: 'The Docker hosts the caller may reach, with their health', security: [{ bearer: ['containers:read'] }, { mutualTLS: [] }] },
    preParsing: requireScope('containers:read', 'GET /hosts')
  }, async (request) => {
    return hosts.reachable(request.gw.allowedHosts).map(h => hostView(h, hosts.defaultHost))
  })

  // The container list of every host the caller may reach: the allow-list's
  // row, with its query decisions, fanned out.
  const list = routes.find(r => r.id === 'container.list') as RouteDef
  const range = versionRange(config.apiVersionMin, config.apiVersionMax)
  const label = `GET ${ALL_PREFIX}/containers/json`
  for (const prefix of ['', '/v:version']) {
    fastify.get(`${ALL_PREFIX}${prefix}/containers/json`, {
      schema: { ...routeSchema(list, prefix), tags: ['gateway'], operationId: `fleet.containers.list${prefix === '' ? '' : '@v'}`, summary: 'Containers of every host the caller may reach', security: [{ bearer: ['containers:read'] }, { mutualTLS: [] }] },
      preParsing: requireScope('containers:read', label),
      validatorCompiler: routeValidatorCompiler(list)
    }, fanOut)
  }

  async function fanOut (request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const gw = request.gw
    const refused = openCall(list, range, request)
    if (refused !== undefined) throw refused
    const call = request.docker as DockerCall
    gw.routeId = 'fleet.containers.list'
    gw.host = '_all'
    const targets = hosts.reachable(gw.allowedHosts)
    const result = await fanOutContainerList({
      hosts: targets,
      route: list,
      version: call.version,
      params: call.params,
      filters: call.filters,
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

export default fleet
