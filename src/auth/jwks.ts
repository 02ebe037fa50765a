import { createPublicKey, type JsonWebKey } from 'node:crypto'
import buildGetJwks from 'get-jwks'
import { Agent } from 'undici'
import { algorithmsForKey, ASYMMETRIC_ALGORITHMS } from './keys'
import { invalidToken, TokenRejected } from './token-errors'

/**
 * Signing keys from an identity provider's JWKS (RFC 7517), fetched, cached
 * and refreshed by get-jwks. Three rules on top of it:
 *
 * - Keys come from the configured URL only. The token's `iss` never chooses
 *   where to fetch (that would let any token make the gateway fetch any URL),
 *   and get-jwks' allow-list holds just the URL's origin.
 * - The token's `alg` must be one the JWK's own kind can verify (and the
 *   JWK's `alg`, when present): a JWK never verifies under an algorithm
 *   picked by the token (RFC 8725 §3.1).
 * - An unknown `kid` makes get-jwks fetch the set again (that is how new
 *   keys are picked up after a rotation); a kid that was just looked up
 *   and not found is answered from memory for `missTtlMs`, so a stream of
 *   made-up kids cannot turn the gateway into a load generator for the IdP.
 */

export interface JwksOptions {
  /** How long a fetched key is used before the set is fetched again. */
  cacheTtlMs?: number
  /** Connect, headers and body timeout of one fetch. */
  timeoutMs?: number
  missTtlMs?: number
}

export interface JwksKeyResolver {
  /** The PEM public key for a token's header; throws TokenRejected. */
  resolve: (header: { alg?: unknown, kid?: unknown }) => Promise<string>
  close: () => Promise<void>
}

const MAX_MISSES = 1000

export function createJwksKeyResolver (url: URL, opts: JwksOptions = {}): JwksKeyResolver {
  const timeout = opts.timeoutMs ?? 5000
  const missTtl = opts.missTtlMs ?? 30_000
  const agent = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout, connections: 4 })
  const domain = url.origin
  const getJwks = buildGetJwks({
    max: 100,
    ttl: opts.cacheTtlMs ?? 5 * 60_000,
    issuersWhitelist: [domain],
    jwksPath: url.pathname + url.search,
    fetchOptions: { dispatcher: agent } as unknown as NonNullable<buildGetJwks.GetJwksOptions['fetchOptions']>
  })
  const misses = new Map<string, number>()
  const keys = new WeakMap<object, { pem: string, algorithms: string[] }>()

  async function resolve (header: { alg?: unknown, kid?: unknown }): Promise<string> {
    const { alg, kid } = header
    if (typeof alg !== 'string' || (kid !== undefined && typeof kid !== 'string')) {
      throw new TokenRejected(invalidToken('malformed', 'the token header is malformed'))
    }
    if (alg === 'none') throw new TokenRejected(invalidToken('unsigned', 'the token is unsigned; alg "none" is never accepted'))
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
      throw new TokenRejected(invalidToken('algorithm', `the token's algorithm is not accepted (this gateway accepts ${ASYMMETRIC_ALGORITHMS.join(', ')})`))
    }
    const missKey = `${alg}:${kid ?? ''}`
    const missedAt = misses.get(missKey)
    if (missedAt !== undefined && Date.now() - missedAt < missTtl) throw notFound(kid)

    let jwk: Record<string, unknown>
    try {
      jwk = await getJwks.getJwk({ domain, alg, kid: kid as string })
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'JWK_NOT_FOUND' || code === 'NO_JWKS') {
        if (misses.size >= MAX_MISSES) misses.delete(misses.keys().next().value as string)
        misses.set(missKey, Date.now())
        throw notFound(kid)
      }
      throw new TokenRejected(invalidToken('key_unavailable', `the signing keys cannot be fetched from ${domain} (${code ?? (err as Error).message})`, 503))
    }
    misses.delete(missKey)

    let known = keys.get(jwk)
    if (known === undefined) {
      if (jwk.use !== undefined && jwk.use !== 'sig') throw notFound(kid)
      try {
        const { domain: _domain, ...key } = jwk
        const keyObject = createPublicKey({ key: key as JsonWebKey, format: 'jwk' })
        known = { pem: keyObject.export({ type: 'spki', format: 'pem' }).toString(), algorithms: algorithmsForKey(keyObject) }
      } catch {
        throw notFound(kid)
      }
      keys.set(jwk, known)
    }
    if (!known.algorithms.includes(alg) || (jwk.alg !== undefined && jwk.alg !== alg)) {
      throw new TokenRejected(invalidToken('algorithm', `the token's algorithm ${alg} does not fit the signing key it names`))
    }
    return known.pem
  }

  return { resolve, close: async () => { await agent.close() } }
}

function notFound (kid: unknown): TokenRejected {
  return new TokenRejected(invalidToken('key_not_found', typeof kid === 'string' ? 'the signing key (kid) is not in the key set' : 'the token names no signing key (kid) and the key set has none without one'))
}
