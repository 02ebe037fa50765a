import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { checkCanonicalPath } from '../src/docker/canonical-path'
import { PathNotCanonical } from '../src/errors'

/**
 * The canonical-path guard (src/docker/canonical-path.ts) as an onRequest
 * hook of the root, over the raw URL: it runs for every request after
 * authentication and the rate limit, whether or not a route matched, because
 * the router has already decoded what the guard refuses.
 */
function canonicalPath (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const refusal = checkCanonicalPath(request.raw.url ?? '/')
  if (refusal === undefined) done()
  else done(new PathNotCanonical(refusal.message))
}

async function canonicalPathPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onRequest', canonicalPath)
}

export default fp(canonicalPathPlugin, { name: 'docker-gateway-canonical-path', fastify: '5.x' })
