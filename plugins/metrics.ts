import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, RequestPayload } from 'fastify'
import type { GatewayMetrics } from '../src/metrics'
import { Unauthorized } from '../src/errors'
import { requireScope } from './auth'

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
  const security: Array<Record<string, string[]>> = opts.token === undefined ? [{ bearer: ['admin'] }, { mutualTLS: [] }] : [{ metricsToken: [] }]
  const schema = { tags: ['gateway'], operationId: 'metrics', summary: 'Prometheus metrics', security }
  // Authenticated by the normal hook; telemetry of everyone's traffic is for admins.
  const preParsing = opts.token === undefined ? requireScope('admin', 'GET /metrics') : checkMetricsToken
  function checkMetricsToken (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload, done: (err: Error | null, payload?: RequestPayload) => void): void {
    request.gw.route = 'GET /metrics'
    const header = request.headers.authorization ?? ''
    const given = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? ''
    if (sameSecret(given, opts.token as string)) { done(null, payload); return }
    request.gw.reason = 'authentication failed: metrics token'
    void reply.header('www-authenticate', 'Bearer realm="docker-gateway-metrics"')
    done(new Unauthorized('the metrics endpoint needs its bearer token'))
  }
  fastify.get('/metrics', { schema, preParsing }, async (_request, reply) => {
    void reply.header('content-type', opts.metrics.registry.contentType)
    return await opts.metrics.registry.metrics()
  })
}

export default metricsRoute
