import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../config/load'
import type { Config } from '../config/schema'

/**
 * Which key verifies bearer tokens, and which algorithms it may verify.
 *
 * The algorithm list is pinned to the kind of key, never taken from the
 * token: a token's `alg` header is attacker-controlled, and letting it pick
 * the algorithm is how an RSA public key ends up used as an HMAC secret or
 * `alg: none` passes (CVE-2015-9235, RFC 8725 §2.1 and §3.1).
 */
export type KeySource =
  | { kind: 'secret', secret: string, algorithms: readonly string[] }
  | { kind: 'public-key', file: string, pem: string, algorithms: readonly string[] }
  | { kind: 'jwks', url: URL, algorithms: readonly string[] }

/** HS256 only: the `token` command signs with it, and one algorithm is one less to confuse. */
export const SECRET_ALGORITHMS: readonly string[] = ['HS256']

/** Every asymmetric algorithm; each JWK further narrows it to its own kind (jwks.ts). */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']

const EC_CURVES: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }

/** The JWS algorithms (RFC 7518 §3.1, RFC 8037) a public key can verify. */
export function algorithmsForKey (key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512']
    case 'ec': {
      const alg = EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? '']
      if (alg === undefined) throw new Error(`unsupported EC curve ${key.asymmetricKeyDetails?.namedCurve ?? '(unknown)'} (use P-256, P-384 or P-521)`)
      return [alg]
    }
    case 'ed25519':
    case 'ed448':
      return ['EdDSA']
  }
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? '(none)'}`)
}

/** A public key from a PEM file (SPKI or certificate) or a single JWK in JSON. */
export function readPublicKey (file: string): { pem: string, algorithms: string[] } {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`jwtPublicKey: cannot read ${file}: ${(err as Error).message}`)
  }
  let key: KeyObject
  let isPrivate: boolean
  try {
    if (text.trimStart().startsWith('{')) {
      const jwk = JSON.parse(text) as JsonWebKey
      isPrivate = jwk.d !== undefined
      key = createPublicKey({ key: jwk, format: 'jwk' })
    } else {
      isPrivate = /PRIVATE KEY-----/.test(text)
      key = createPublicKey(text)
    }
  } catch (err) {
    throw new ConfigError(`jwtPublicKey: ${file} holds no usable public key: ${(err as Error).message}`)
  }
  // createPublicKey would derive the public half of a private key; but a
  // signing key has no business on the gateway, which only verifies.
  if (isPrivate) throw new ConfigError(`jwtPublicKey: ${file} holds a private key; give the gateway only the public key`)
  let algorithms: string[]
  try {
    algorithms = algorithmsForKey(key)
  } catch (err) {
    throw new ConfigError(`jwtPublicKey: ${file}: ${(err as Error).message}`)
  }
  return { pem: key.export({ type: 'spki', format: 'pem' }).toString(), algorithms }
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost'])

/**
 * A JWKS URL must be https: whoever can change the key set in transit can
 * mint tokens. Plain http is accepted for loopback only (a local IdP or test).
 */
export function parseJwksUrl (text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new ConfigError(`jwksUrl: not a URL: ${text}`)
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new ConfigError('jwksUrl: must be an https:// URL (http:// only for 127.0.0.1, [::1] or localhost)')
  }
  if (url.username !== '' || url.password !== '') throw new ConfigError('jwksUrl: must not carry credentials')
  return url
}

/**
 * The configured key: exactly one of jwtSecret, jwtPublicKey, jwksUrl, or
 * else `fallbackSecret` (the data-folder secret the CLI generates on first start).
 */
export function resolveKeySource (config: Config, fallbackSecret?: string): KeySource {
  const set = (['jwtSecret', 'jwtPublicKey', 'jwksUrl'] as const).filter(k => config[k] !== undefined)
  if (set.length > 1) throw new ConfigError(`invalid configuration: set only one of jwtSecret, jwtPublicKey, jwksUrl (found ${set.join(', ')})`)
  if (config.jwtSecret !== undefined) return { kind: 'secret', secret: config.jwtSecret, algorithms: SECRET_ALGORITHMS }
  if (config.jwtPublicKey !== undefined) {
    const { pem, algorithms } = readPublicKey(config.jwtPublicKey)
    return { kind: 'public-key', file: config.jwtPublicKey, pem, algorithms }
  }
  if (config.jwksUrl !== undefined) return { kind: 'jwks', url: parseJwksUrl(config.jwksUrl), algorithms: ASYMMETRIC_ALGORITHMS }
  if (fallbackSecret !== undefined) {
    // RFC 7518 §3.2: an HS256 key must be at least 256 bits.
    if (Buffer.byteLength(fallbackSecret) < 32) throw new ConfigError('the JWT secret must be at least 32 bytes (RFC 7518 §3.2)')
    return { kind: 'secret', secret: fallbackSecret, algorithms: SECRET_ALGORITHMS }
  }
  throw new ConfigError('no JWT key configured: set GATEWAY_JWT_SECRET, GATEWAY_JWT_PUBLIC_KEY or GATEWAY_JWKS_URL (`docker-gateway start` generates a secret in the data folder when none is set)')
}
