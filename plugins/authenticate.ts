import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { parseScopes } from '../src/auth/scopes'
import { parseHostsClaim } from '../src/upstream/host-access'
import { Unauthorized } from '../src/errors'

/**
 * Bearer-token authentication (RFC 6750) on every route except the health
 * probes. Algorithms are pinned to the key's kind so that `alg: none` or an
 * HS256 token "signed" with an RSA public key never verifies (the classic
 * JWT algorithm-confusion attack, CVE-2015-9235).
 */

export interface JwtClaims {
  sub: string
  scope?: string | string[]
  hosts?: string[]
  exp: number
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: JwtClaims
    user: JwtClaims
  }
}

export interface AuthenticateOptions {
  secret: string
  /** Paths that answer without credentials. */
  publicPaths: ReadonlySet<string>
}

function challenge (message: string): Error {
  const err = new Unauthorized(message)
  return err
}

async function authenticate (fastify: FastifyInstance, opts: AuthenticateOptions): Promise<void> {
  await fastify.register(fastifyJwt, {
    secret: opts.secret,
    verify: { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }
  })

  fastify.addHook('onRequest', async (request: FastifyRequest, reply) => {
    const path = request.url.split('?', 1)[0] as string
    if (opts.publicPaths.has(path)) return
    void reply.header('www-authenticate', 'Bearer realm="docker-gateway"')
    const header = request.headers.authorization
    if (header === undefined || !/^Bearer\s+\S+$/i.test(header)) {
      request.gw.decision = 'deny'
      request.gw.reason = 'no bearer token'
      throw challenge('authentication required: send "Authorization: Bearer <token>"')
    }
    let claims: JwtClaims
    try {
      claims = await request.jwtVerify<JwtClaims>()
    } catch (err) {
      request.gw.decision = 'deny'
      request.gw.reason = `invalid token: ${(err as { code?: string }).code ?? 'unknown'}`
      throw challenge(`invalid token: ${(err as Error).message}`)
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') {
      request.gw.decision = 'deny'
      request.gw.reason = 'token has no sub'
      throw challenge('invalid token: the sub claim is required')
    }
    request.gw.principal = claims.sub
    request.gw.authMethod = 'jwt'
    request.gw.scopes = parseScopes(claims.scope)
    const allowedHosts = parseHostsClaim(claims.hosts)
    if (allowedHosts !== undefined) request.gw.allowedHosts = allowedHosts
  })
}

export default fp(authenticate, { name: 'docker-gateway-authenticate', fastify: '5.x', dependencies: ['docker-gateway-request-context'] })
