import fp from 'fastify-plugin'
import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import type { Algorithm } from 'fast-jwt'
import { TLSSocket } from 'node:tls'
import type { FastifyInstance, FastifyReply, FastifyRequest, preParsingHookHandler, RequestPayload } from 'fastify'
import { hasScope } from '../src/auth/scopes'
import type { Scope } from '../src/docker/routes'
import type { Config } from '../src/config/schema'
import { resolveKeySource, type KeySource } from '../src/auth/keys'
import { createJwksKeyResolver, type JwksOptions } from '../src/auth/jwks'
import { identityFromClaims } from '../src/auth/claims'
import { TokenCache, type VerifiedIdentity } from '../src/auth/token-cache'
import { resolveCertificate, type CertificateIdentity, type ClientCertificateGrant } from '../src/auth/client-cert'
import {
  challengeHeader, classifyVerifyError, insufficientScopeHeader, missingCredentials, NOT_BEARER, REVOKED, type AuthFailure
} from '../src/auth/token-errors'
import { AuthUnavailable, redisUnavailable, scopeMissing, Unauthorized } from '../src/errors'

/**
 * Who is calling. Every request except GET/HEAD of the health probes must
 * carry a bearer token (RFC 6750) that verifies, or come over a mutual-TLS
 * connection whose verified client certificate is mapped in
 * `clientCertificates`.
 *
 * Precedence: a bearer token, when sent, decides, even on an mTLS
 * connection (a service holding a certificate may act for a person whose
 * token it forwards), and a bad token is a 401 even then: falling back to
 * the certificate would hide the client's mistake and widen its rights
 * silently. Without a token, the certificate's mapping is the principal.
 *
 * Two hooks, with the rate limit between them (src/app.ts registers it
 * next): `onRequest` identifies the caller and records a failure without
 * answering yet, the rate limit then counts the request under the
 * principal, or under the source IP when there is none (so a flood of bad
 * tokens is limited per IP), and `preParsing` answers the 401 before any
 * body is read.
 *
 * Algorithms are pinned to the key's kind (src/auth/keys.ts), so `alg:
 * none` or an HS256 token "signed" with an RSA public key never verifies
 * (CVE-2015-9235). Verified tokens are remembered until their `exp`
 * (src/auth/token-cache.ts); a token's `jti` is checked against the
 * revocation list on every request, after the cache, so a cached token is
 * refused as soon as this gateway's copy of the list holds it.
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
  keys: KeySource
  issuer?: string
  audience?: string
  /** Verified tokens remembered; 0 turns the cache off. */
  tokenCacheSize: number
  /** Longest a verified token is trusted without checking it again (bounds a revoked JWKS key's life). */
  tokenCacheMaxAgeMs?: number
  clientCertificates?: Readonly<Record<string, ClientCertificateGrant>>
  /** Paths that answer GET/HEAD without credentials. */
  publicPaths: ReadonlySet<string>
  jwks?: JwksOptions
  /**
   * The revocation list (src/auth/revocation.ts); absent: nothing is revoked.
   * `unconfirmed` says why the list cannot vouch for a token now (redisDown
   * closed and Redis away: src/redis-down.ts), undefined when it can.
   */
  revocations?: { isRevoked: (jti: string) => boolean, unconfirmed?: () => string | undefined }
}

/** The plugin's options from the validated config; `fallbackSecret` is the data-folder secret. */
export function authenticateOptions (config: Config, fallbackSecret: string | undefined, publicPaths: ReadonlySet<string>): AuthenticateOptions {
  const opts: AuthenticateOptions = { keys: resolveKeySource(config, fallbackSecret), tokenCacheSize: config.tokenCacheSize, publicPaths }
  if (config.jwtIssuer !== undefined) opts.issuer = config.jwtIssuer
  if (config.jwtAudience !== undefined) opts.audience = config.jwtAudience
  if (config.clientCertificates !== undefined) opts.clientCertificates = config.clientCertificates
  return opts
}


const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

interface CertificateResult {
  identity?: CertificateIdentity
  /** The verified certificate's first name, for the audit line. */
  name?: string
  names: string[]
}

async function authenticate (fastify: FastifyInstance, opts: AuthenticateOptions): Promise<void> {
  const { keys } = opts
  const algorithms = [...keys.algorithms]
  const cache = new TokenCache({ max: opts.tokenCacheSize, maxAgeMs: opts.tokenCacheMaxAgeMs ?? 5 * 60_000 })
  const failures = new WeakMap<FastifyRequest, AuthFailure>()
  const tokens = new WeakMap<FastifyRequest, string>()
  const certificates = new WeakMap<TLSSocket, CertificateResult>()

  let secret: FastifyJWTOptions['secret']
  if (keys.kind === 'secret') {
    secret = keys.secret
  } else if (keys.kind === 'public-key') {
    secret = { public: keys.pem }
  } else {
    const jwks = createJwksKeyResolver(keys.url, opts.jwks)
    fastify.addHook('onClose', async () => { await jwks.close() })
    secret = async (_request: FastifyRequest, token: unknown) => await jwks.resolve((token as { header: { alg?: unknown, kid?: unknown } }).header)
  }

  // fast-jwt skips the iss/aud check of a token that lacks the claim, so a
  // configured issuer or audience also makes the claim required.
  const requiredClaims = ['exp', 'sub']
  if (opts.issuer !== undefined) requiredClaims.push('iss')
  if (opts.audience !== undefined) requiredClaims.push('aud')
  await fastify.register(fastifyJwt, {
    secret,
    decode: { complete: keys.kind === 'jwks' },
    verify: {
      algorithms: algorithms as Algorithm[],
      requiredClaims,
      ...(opts.issuer !== undefined ? { allowedIss: opts.issuer } : {}),
      ...(opts.audience !== undefined ? { allowedAud: opts.audience } : {}),
      extractToken: (request: FastifyRequest) => tokens.get(request)
    }
  })

  function isPublic (request: FastifyRequest): boolean {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false
    const url = request.url
    const q = url.indexOf('?')
    return opts.publicPaths.has(q === -1 ? url : url.slice(0, q))
  }

  /** A client certificate verified against GATEWAY_TLS_CA, once per connection. */
  function clientCertificate (request: FastifyRequest): CertificateResult | undefined {
    const socket = request.raw.socket
    if (!(socket instanceof TLSSocket)) return undefined
    let result = certificates.get(socket)
    if (result === undefined) {
      result = { names: [] }
      // With tlsClientAuth optional, an unverified certificate reaches us:
      // it proves nothing and is ignored.
      if (socket.authorized) {
        const cert = socket.getPeerCertificate(false)
        if (cert !== null && Object.keys(cert).length > 0) {
          const resolved = resolveCertificate(cert, opts.clientCertificates)
          result = { names: resolved.names }
          if (resolved.identity !== undefined) result.identity = resolved.identity
          const name = resolved.identity?.name ?? resolved.names[0]
          if (name !== undefined) result.name = name
        }
      }
      certificates.set(socket, result)
    }
    return result
  }

  /** `reason` null: the error handler derives it from the error preParsing answers with. */
  function fail (request: FastifyRequest, failure: AuthFailure, method: 'jwt' | 'mtls' | 'none', reason: string | null = `authentication failed: ${failure.kind}`): void {
    failures.set(request, failure)
    request.gw.authMethod = method
    request.gw.decision = 'deny'
    if (reason !== null) request.gw.reason = reason
  }

  function grant (request: FastifyRequest, identity: VerifiedIdentity | CertificateIdentity, method: 'jwt' | 'mtls'): void {
    const gw = request.gw
    gw.principal = 'sub' in identity ? identity.sub : identity.principal
    gw.authMethod = method
    gw.scopes = identity.scopes
    if (identity.allowedHosts !== undefined) gw.allowedHosts = [...identity.allowedHosts]
  }

  /** A verified identity, unless its jti has been revoked, or the list cannot say (503, the audit reason from the error). */
  function admit (request: FastifyRequest, identity: VerifiedIdentity): void {
    const jti = identity.jti
    if (jti !== undefined && opts.revocations !== undefined) {
      if (opts.revocations.isRevoked(jti)) { fail(request, REVOKED, 'jwt', 'token revoked'); return }
      const why = opts.revocations.unconfirmed?.()
      if (why !== undefined) { fail(request, { kind: 'revocation_unconfirmed', status: 503, message: why }, 'jwt', null); return }
    }
    grant(request, identity, 'jwt')
  }

  // Callback style: a token already verified (the cache) costs no promise on
  // every request; only a first sight of a token waits for its verification.
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (isPublic(request)) {
      request.gw.authMethod = 'none'
      done()
      return
    }
    const cert = clientCertificate(request)
    if (cert?.name !== undefined) request.gw.clientCert = cert.name

    const header = request.headers.authorization
    if (header !== undefined) {
      const m = BEARER.exec(header)
      if (m === null) { fail(request, NOT_BEARER, 'none'); done(); return }
      const token = m[1] as string
      const cached = cache.get(token)
      if (cached !== undefined) { admit(request, cached); done(); return }
      tokens.set(request, token)
      request.jwtVerify().then((claims) => {
        const identity = identityFromClaims(claims)
        cache.set(token, identity)
        admit(request, identity)
      }).catch((err: unknown) => {
        fail(request, classifyVerifyError(err, algorithms), 'jwt')
      }).finally(done)
      return
    }
    if (cert?.identity !== undefined) grant(request, cert.identity, 'mtls')
    else if (cert?.name !== undefined) fail(request, missingCredentials(`the client certificate ${cert.name} is not mapped in clientCertificates`), 'mtls')
    else fail(request, missingCredentials(), 'none')
    done()
  })

  // Callback style: this runs on every request, and a sync hook costs no promise.
  fastify.addHook('preParsing', (request, reply, payload, done) => {
    const failure = failures.get(request)
    if (failure === undefined) { done(null, payload); return }
    if (failure.kind === 'revocation_unconfirmed') { done(redisUnavailable('revocation list', failure.message)); return }
    if (failure.status === 503) { done(new AuthUnavailable(failure.message)); return }
    void reply.header('www-authenticate', challengeHeader(failure))
    done(new Unauthorized(failure.message))
  })
}

/**
 * The scope check, one named hook for every route that needs a scope: the
 * Docker mirror, the fleet view, /policy/check and /metrics. A preParsing
 * hook: after authentication's own preParsing refusal (an anonymous caller
 * gets its 401, not a 403) and before the body is read. It stamps the route's
 * label on the audit line. (A hook per route, bound to its scope and label:
 * reading them from request.routeOptions would build that object on every
 * request.)
 */
export function requireScope (scope: Scope, label: string): preParsingHookHandler {
  return function requireScope (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload, done: (err: Error | null, payload?: RequestPayload) => void): void {
    request.gw.route = label
    if (hasScope(request.gw.scopes, scope)) { done(null, payload); return }
    // RFC 6750 §3.1: a 403 for want of a scope names it in the bearer challenge.
    if (request.gw.authMethod === 'jwt') void reply.header('www-authenticate', insufficientScopeHeader(scope))
    done(scopeMissing(scope, label))
  }
}

export default fp(authenticate, { name: 'docker-gateway-auth', fastify: '5.x', dependencies: ['docker-gateway-audit'] })
