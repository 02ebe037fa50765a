/**
 * Why a request was not authenticated, in three forms: the HTTP status, the
 * Docker-shaped body message a person reads, and the RFC 6750 §3 challenge a
 * client library reads (`WWW-Authenticate: Bearer error="invalid_token",
 * error_description="..."`). No form ever carries the token or any part of it:
 * tokens end up in terminals and tickets, and a log is not a safe place for one.
 */

export const REALM = 'docker-gateway'

export type AuthFailureKind =
  | 'missing' | 'not_bearer' | 'malformed' | 'unsigned' | 'algorithm' | 'signature' | 'expired'
  | 'inactive' | 'missing_claim' | 'claim' | 'issuer' | 'audience' | 'key_not_found' | 'key_unavailable'
  | 'unmapped_certificate' | 'invalid' | 'revoked' | 'revocation_unconfirmed'

export interface AuthFailure {
  kind: AuthFailureKind
  /** 401, or 503 when the keys to check the token with cannot be had (not the client's fault). */
  status: 401 | 503
  /** The body message, `{"message": ...}`. */
  message: string
  /**
   * RFC 6750 §3.1 error code. Absent when the request carried no credentials:
   * "If the request lacks any authentication information ... the resource
   * server SHOULD NOT include an error code or other error information."
   */
  error?: 'invalid_token'
}

/** Raised by key resolution (JWKS) and claim checks with a ready-made failure. */
export class TokenRejected extends Error {
  readonly failure: AuthFailure
  constructor (failure: AuthFailure) {
    super(failure.message)
    this.name = 'TokenRejected'
    this.failure = failure
  }
}

export function invalidToken (kind: AuthFailureKind, why: string, status: 401 | 503 = 401): AuthFailure {
  return { kind, status, message: `invalid token: ${why}`, error: 'invalid_token' }
}

const MISSING: AuthFailure = {
  kind: 'missing',
  status: 401,
  message: 'authentication required: send "Authorization: Bearer <token>"'
}

export function missingCredentials (detail?: string): AuthFailure {
  return detail === undefined ? MISSING : { ...MISSING, message: `${MISSING.message} (${detail})` }
}

export const NOT_BEARER: AuthFailure = {
  kind: 'not_bearer',
  status: 401,
  message: 'authentication required: the Authorization header must be "Bearer <token>"'
}

/** A token that verifies but whose jti is on the revocation list (src/auth/revocation.ts). */
export const REVOKED: AuthFailure = invalidToken('revoked', 'the token has been revoked')

/**
 * Map an error from @fastify/jwt / fast-jwt to a failure. @fastify/jwt folds
 * several fast-jwt codes into FST_JWT_AUTHORIZATION_TOKEN_INVALID and keeps
 * only fast-jwt's message, so those are told apart by that message; the
 * bad-token tests pin every case end to end against the real libraries.
 */
export function classifyVerifyError (err: unknown, accepted: readonly string[]): AuthFailure {
  if (err instanceof TokenRejected) return err.failure
  const code = (err as { code?: string } | null)?.code ?? ''
  const text = err instanceof Error ? err.message : ''
  switch (code) {
    case 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED':
    case 'FAST_JWT_EXPIRED':
      return invalidToken('expired', 'the token has expired (exp is in the past)')
    case 'FAST_JWT_INACTIVE':
      return invalidToken('inactive', 'the token is not valid yet (nbf is in the future)')
    case 'FAST_JWT_MISSING_SIGNATURE':
      return invalidToken('unsigned', 'the token is unsigned; alg "none" is never accepted')
    case 'FAST_JWT_INVALID_ALGORITHM':
    case 'FAST_JWT_INVALID_KEY':
      return invalidToken('algorithm', `the token's algorithm is not accepted (this gateway accepts ${accepted.join(', ')})`)
    case 'FAST_JWT_MALFORMED':
    case 'FAST_JWT_INVALID_TYPE':
    case 'FAST_JWT_INVALID_PAYLOAD':
    case 'FST_JWT_BAD_REQUEST':
      return invalidToken('malformed', 'the token is malformed (expected a signed JWT: header.payload.signature)')
    case 'FAST_JWT_INVALID_CLAIM_TYPE':
      return invalidToken('claim', claimSentence(text) ?? 'a claim has the wrong type')
    case 'FAST_JWT_INVALID_CRIT_HEADER':
      return invalidToken('invalid', 'the token has an unsupported critical header')
    case 'FAST_JWT_KEY_FETCHING_ERROR':
      return invalidToken('key_unavailable', 'the signing keys cannot be fetched', 503)
    case 'FST_JWT_AUTHORIZATION_TOKEN_INVALID':
      return classifyInvalid(text, accepted)
  }
  return invalidToken('invalid', 'the token was rejected')
}

function classifyInvalid (text: string, accepted: readonly string[]): AuthFailure {
  if (/signature is invalid/i.test(text)) return invalidToken('signature', 'bad signature')
  const missing = /The (\w+) claim is required/.exec(text)
  if (missing !== null) return invalidToken('missing_claim', `the ${missing[1] as string} claim is required`)
  if (/The iss claim value is not allowed/.test(text)) return invalidToken('issuer', 'the issuer (iss) is not accepted')
  if (/aud claim value/.test(text)) return invalidToken('audience', 'the audience (aud) is not accepted')
  if (/claim value is not allowed|None of .* claim values/.test(text)) return invalidToken('claim', 'a claim value is not accepted')
  if (/Invalid public key provided|Unsupported PEM|public key/i.test(text)) {
    return invalidToken('algorithm', `the token's algorithm does not fit this gateway's key (accepted: ${accepted.join(', ')})`)
  }
  const sentence = claimSentence(text)
  if (sentence !== undefined) return invalidToken('claim', sentence)
  if (/malformed|not a valid|Invalid typ|The type must be|must be a string|must be an object/i.test(text)) return invalidToken('malformed', 'the token is malformed (expected a signed JWT: header.payload.signature)')
  return invalidToken('invalid', 'the token was rejected')
}

/** fast-jwt's "The exp claim must be a number." names only the claim and a type. */
function claimSentence (text: string): string | undefined {
  const m = /The (\w+) claim must be an? ([a-z ]+?)\.?$/.exec(text)
  return m === null ? undefined : `the ${m[1] as string} claim must be a ${m[2] as string}`
}

/**
 * RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E,
 * so quotes and backslashes (and anything outside ASCII) are replaced.
 */
function quoteSafe (text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?')
}

/** The WWW-Authenticate value for a 401 (RFC 6750 §3, RFC 9110 §11.6.1). */
export function challengeHeader (failure: AuthFailure): string {
  if (failure.error === undefined) return `Bearer realm="${REALM}"`
  const description = failure.message.replace(/^invalid token: /, '')
  return `Bearer realm="${REALM}", error="${failure.error}", error_description="${quoteSafe(description)}"`
}

/** The WWW-Authenticate value for a 403 for want of a scope (RFC 6750 §3.1 insufficient_scope). */
export function insufficientScopeHeader (scope: string): string {
  return `Bearer realm="${REALM}", error="insufficient_scope", scope="${quoteSafe(scope)}"`
}
