import fp from 'fastify-plugin'
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { GatewayMetrics } from '../src/metrics'
import { Unauthorized } from '../src/errors'

/**
 * `GET /metrics` in Prometheus text format, outside the Docker namespace.
 * Scrapers rarely hold user tokens, so it has its own optional bearer token
 * (`metrics.token`); without one it is open like /healthz.
 */
function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

async function metricsRoute (fastify: FastifyInstance, opts: { metrics: GatewayMetrics, token?: string }): Promise<void> {
  fastify.get('/metrics', async (request, reply) => {
    request.gw.route = 'GET /metrics'
    if (opts.token !== undefined) {
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
