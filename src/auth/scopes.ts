import type { Scope } from '../docker/routes'

/**
 * Authorization by scope (issue 3's claims contract): `scope` is a
 * space-separated list as in OAuth 2.0 (RFC 6749 §3.3); `admin` grants
 * everything, including other principals' containers.
 */
export const ALL_SCOPES: readonly Scope[] = ['containers:read', 'containers:write', 'containers:export', 'containers:exec', 'images:read', 'images:pull', 'admin']

export function parseScopes (claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter(s => s !== '')
  // Some identity providers send scopes as an array (`scp` style).
  if (Array.isArray(claim)) return claim.filter((s): s is string => typeof s === 'string')
  return []
}

export function hasScope (granted: readonly string[] | undefined, needed: Scope): boolean {
  if (granted === undefined) return false
  return granted.includes('admin') || granted.includes(needed)
}

export function isAdmin (granted: readonly string[] | undefined): boolean {
  return granted !== undefined && granted.includes('admin')
}
