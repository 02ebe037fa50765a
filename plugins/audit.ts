import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { AuditWriter, GatewayContext } from '../src/audit/record'

/**
 * The audit context of every request (src/audit/record.ts): opened first,
 * filled in by each step of the security path, and written as one line when
 * the response's socket closes (a client that hangs up mid-stream is recorded
 * too, which fastify's onResponse would miss).
 */
async function requestContext (fastify: FastifyInstance, opts: { write: AuditWriter, observe?: AuditWriter }): Promise<void> {
  const { write, observe } = opts
  fastify.decorateRequest('gw', null as unknown as GatewayContext)
  // What the Docker mirror's hooks decided (plugins/docker.ts), on every request object alike.
  fastify.decorateRequest('docker', null)
  fastify.addHook('onRequest', (request, reply, done) => {
    const length = request.headers['content-length']
    request.gw = {
      start: process.hrtime.bigint(),
      decision: 'allow',
      bytesIn: length !== undefined ? Number(length) || 0 : 0,
      bytesOut: 0
    }
    // on, not once: a response emits 'close' once (lib/_http_server.js emitCloseNT checks _closed), and
    // once() allocates a wrapper that a held stream keeps for hours (issue 12: 5,000 held streams).
    reply.raw.on('close', () => {
      const gw = request.gw
      const status = gw.upstreamStatus ?? reply.raw.statusCode
      if (status >= 400 && gw.decision !== 'deny' && gw.upstreamStatus === undefined) {
        // The gateway itself refused (a step may have set only the reason): make the decision explicit.
        // A would-deny body refused by a later step (ownership) is a deny too; wouldDeny stays listed.
        gw.decision = 'deny'
        if (gw.reason === undefined) gw.reason = `status ${status}`
      }
      if (gw.upstreamStatus === undefined && gw.bytesOut === 0) {
        // A response the gateway made itself (an error, /healthz): its length is known.
        // Read from fastify's reply, not the raw response: fastify hands its
        // headers to writeHead(), which does not keep them for getHeader().
        const length = Number(reply.getHeader('content-length'))
        if (Number.isFinite(length)) gw.bytesOut = length
      }
      write(request, status)
      if (observe !== undefined) observe(request, status)
    })
    done()
  })
}

export default fp(requestContext, { name: 'docker-gateway-audit', fastify: '5.x' })
