import { parseScopes } from './scopes'
import { invalidToken, TokenRejected } from './token-errors'
import type { VerifiedIdentity } from './token-cache'
import { HOST_NAME } from '../docker/names'

/**
 * The claims contract (issue 3 §2) applied to a payload whose signature and
 * time claims the JWT library has already checked: `sub` names the
 * principal, `scope` holds space-separated scopes, `hosts` (optional) lists
 * the hosts the token may reach, `jti` (optional) names it for revocation.
 * A token that breaks the contract is
 * refused outright rather than read generously: a `hosts` claim that is not
 * a list of names must not turn into "every host".
 */


export function identityFromClaims (payload: unknown): VerifiedIdentity {
  if (payload === null || typeof payload !== 'object') throw new TokenRejected(invalidToken('claim', 'the payload must be a JSON object'))
  const claims = payload as Record<string, unknown>
  if (typeof claims.sub !== 'string' || claims.sub.trim() === '') throw new TokenRejected(invalidToken('missing_claim', 'the sub claim must be a non-empty string'))
  if (claims.sub.length > 256) throw new TokenRejected(invalidToken('claim', 'the sub claim is longer than 256 characters'))
  if (typeof claims.exp !== 'number') throw new TokenRejected(invalidToken('missing_claim', 'the exp claim is required'))
  if (claims.scope !== undefined && typeof claims.scope !== 'string' && !Array.isArray(claims.scope)) {
    throw new TokenRejected(invalidToken('claim', 'the scope claim must be a space-separated string'))
  }
  const identity: VerifiedIdentity = { sub: claims.sub, scopes: parseScopes(claims.scope), expiresAt: claims.exp * 1000 }
  // RFC 7519 §4.1.7: a string. Any other type could never match a revocation, so it is refused.
  if (claims.jti !== undefined) {
    if (typeof claims.jti !== 'string' || claims.jti === '') throw new TokenRejected(invalidToken('claim', 'the jti claim must be a non-empty string'))
    identity.jti = claims.jti
  }
  if (claims.hosts !== undefined) {
    if (!Array.isArray(claims.hosts) || !claims.hosts.every(h => typeof h === 'string' && HOST_NAME.test(h))) {
      throw new TokenRejected(invalidToken('claim', 'the hosts claim must be an array of host names'))
    }
    identity.allowedHosts = claims.hosts as string[]
  }
  return identity
}
