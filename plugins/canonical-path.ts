import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, RequestPayload } from 'fastify'
import { checkCanonicalPath } from '../src/docker/canonical-path'
import { PathNotCanonical } from '../src/errors'

/**
 * The canonical-path guard (src/docker/canonical-path.ts) as a hook of the
 * root, over the raw URL: it runs for every request, whether or not a route
 * matched (the router has already decoded what the guard refuses), after
 * authentication's refusal (an anonymous caller learns nothing of the paths:
 * a 401 first), the rate limit and the connection limits, and before any
 * route's own hooks and before the body is read (preParsing).
 */
function canonicalPath (request: FastifyRequest, _reply: FastifyReply, payload: RequestPayload, done: (err: Error | null, payload?: RequestPayload) => void): void {
  const refusal = checkCanonicalPath(request.raw.url ?? '/')
  if (refusal === undefined) done(null, payload)
  else done(new PathNotCanonical(refusal.message))
}

async function canonicalPathPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.addHook('preParsing', canonicalPath)
}

export default fp(canonicalPathPlugin, { name: 'docker-gateway-canonical-path', fastify: '5.x' })
