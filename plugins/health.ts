import type { FastifyInstance } from 'fastify'
import type { HostRegistry } from '../src/upstream/hosts'

/**
 * Liveness and readiness, outside the Docker namespace and without
 * authentication, for load balancers and orchestrators: /healthz says the
 * process answers; /readyz says the default daemon answers /_ping, and that
 * nothing else keeps the replica from serving: `notReady` (with redisDown
 * closed, a Redis that does not answer: src/redis-down.ts), checked first,
 * from state the gateway already keeps, so a probe costs Redis nothing.
 */
async function health (fastify: FastifyInstance, opts: { hosts: HostRegistry, timeoutMs?: number, notReady?: () => string | undefined }): Promise<void> {
  const timeout = opts.timeoutMs ?? 2000
  // Probes send HEAD as often as GET; the app adds no HEAD routes of its own (app.ts).
  const probe = (operationId: string, summary: string) => ({ exposeHeadRoute: true, schema: { tags: ['gateway'], operationId, summary, security: [] } })
  fastify.get('/healthz', probe('healthz', 'The process answers'), async () => ({ status: 'ok' }))
  fastify.get('/readyz', probe('readyz', 'The default daemon answers /_ping'), async (request, reply) => {
    const why = opts.notReady?.()
    if (why !== undefined) return await reply.code(503).send({ message: why })
    const host = opts.hosts.get(undefined)
    if (host === undefined) return await reply.code(503).send({ message: 'no Docker host is configured' })
    try {
      // Through the host's client: a daemon that does not answer counts against its breaker.
      const res = await host.call({ path: '/_ping', headersTimeout: timeout, bodyTimeout: timeout, maxBytes: 1024 })
      if (res.status !== 200) throw new Error(`/_ping answered ${res.status}`)
      return { status: 'ready', host: host.name }
    } catch (err) {
      request.log.warn({ err, host: host.name }, 'readiness check failed')
      const e = err as Error & { reason?: string }
      return await reply.code(503).send({ message: `Docker daemon "${host.name}" is not reachable: ${e.reason ?? e.message}` })
    }
  })
}

export default health
