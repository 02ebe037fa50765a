import { ALL_HOSTS } from '../docker/names'

/**
 * Which Docker host a call may reach: the `/hosts/{name}` prefix (or the
 * default host) checked against the token's `hosts` claim. Pure, tested
 * with a table.
 *
 * The claim is checked before existence, so a token limited to ["a"] learns
 * nothing about which other names are configured: it gets the same 403 for
 * "b" whether or not b exists. The claim applies to unprefixed calls too
 * (they go to the default host, which the token may not allow).
 */

export type HostDecision =
  | { ok: true, name: string }
  | { ok: false, status: 403 | 404, message: string, pageNotFound?: true }

export function decideHostAccess (
  requested: string | undefined,
  defaultHost: string,
  exists: (name: string) => boolean,
  allowed: readonly string[] | undefined
): HostDecision {
  // `_all` is served only by the fleet routes; anything else under it is a
  // path the gateway does not have.
  if (requested === ALL_HOSTS) return { ok: false, status: 404, message: 'page not found', pageNotFound: true }
  const name = requested ?? defaultHost
  if (allowed !== undefined && !allowed.includes(name)) {
    return { ok: false, status: 403, message: `token does not allow host "${name}"` }
  }
  if (!exists(name)) return { ok: false, status: 404, message: `No such host: ${name}` }
  return { ok: true, name }
}

/** The names a token may reach, in registry order. */
export function reachableNames (names: readonly string[], allowed: readonly string[] | undefined): string[] {
  return allowed === undefined ? [...names] : names.filter(n => allowed.includes(n))
}

/**
 * The token's `hosts` claim: absent means every host; a list of names limits
 * the token to them. Anything else (a string, numbers) fails closed: no host.
 */
export function parseHostsClaim (claim: unknown): string[] | undefined {
  if (claim === undefined) return undefined
  if (!Array.isArray(claim)) return []
  return claim.filter((n): n is string => typeof n === 'string')
}
