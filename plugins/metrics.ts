import fp from 'fastify-plugin'
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { GatewayMetrics } from '../src/metrics'
import { Forbidden, Unauthorized } from '../src/errors'
import { hasScope } from '../src/auth/scopes'

/**
 * `GET /metrics` in Prometheus text format, outside the Docker namespace.
 * Scrapers rarely hold user tokens, so it may have its own bearer token
 * (`metrics.token`); without one it needs a user token with the admin scope.
 */
function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

async function metricsRoute (fastify: FastifyInstance, opts: { metrics: GatewayMetrics, token?: string }): Promise<void> {
  fastify.get('/metrics', async (request, reply) => {
    request.gw.route = 'GET /metrics'
    if (opts.token === undefined) {
      // Authenticated by the normal hook; telemetry of everyone's traffic is for admins.
      if (!hasScope(request.gw.scopes, 'admin')) {
        request.gw.reason = 'missing scope admin'
        throw new Forbidden('token lacks the scope "admin" needed for GET /metrics')
      }
    } else {
      const header = request.headers.authorization ?? ''
      const given = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? ''
      if (!sameSecret(given, opts.token)) {
        request.gw.reason = 'authentication failed: metrics token'
        void reply.header('www-authenticate', 'Bearer realm="docker-gateway-metrics"')
        throw new Unauthorized('the metrics endpoint needs its bearer token')
      }
    }
    void reply.header('content-type', opts.metrics.registry.contentType)
    return await opts.metrics.registry.metrics()
  })
}

export default fp(metricsRoute, { name: 'docker-gateway-metrics', fastify: '5.x', dependencies: ['docker-gateway-request-context'] })
