import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSigner } from 'fast-jwt'
import { ALL_SCOPES } from './scopes'

/**
 * The HS256 secret that `docker-gateway start` generates into the data
 * folder when no key is configured (so the two-command start works, as
 * Jupyter's token does), and the tokens the `token` command signs with it.
 */

export const SECRET_FILE = 'jwt-secret'

/** The data folder holds a private key and a secret: owner only. */
export function ensureDataDir (dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
}

export function readSecretFile (file: string): string {
  const secret = readFileSync(file, 'utf8').trim()
  if (Buffer.byteLength(secret) < 32) throw new Error(`${file} holds fewer than 32 bytes; delete it to have a new secret generated`)
  return secret
}

/** The data-folder secret, created (256 random bits, mode 0600) if absent. */
export function readOrCreateSecret (dataDir: string): { secret: string, file: string, created: boolean } {
  ensureDataDir(dataDir)
  const file = join(dataDir, SECRET_FILE)
  try {
    return { secret: readSecretFile(file), file, created: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const secret = randomBytes(32).toString('base64url')
  try {
    // 'wx': two replicas starting at once on a shared folder keep one secret.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { secret: readSecretFile(file), file, created: false }
    throw err
  }
  chmodSync(file, 0o600)
  return { secret, file, created: true }
}

/** Group or world access to the secret file, e.g. "0644" (undefined when it is 0600 or stricter). */
export function looseMode (file: string): string | undefined {
  const mode = statSync(file).mode & 0o777
  return (mode & 0o077) !== 0 ? `0${mode.toString(8)}` : undefined
}

export interface TokenRequest {
  sub: string
  scope: string
  ttlMs: number
  hosts?: string[]
  issuer?: string
  audience?: string
}

/** A token request that cannot be honoured (unknown scope, empty sub). */
export class TokenRequestError extends Error {
  override name = 'TokenRequestError'
}

export function checkScopes (scope: string): string[] {
  const scopes = scope.split(' ').filter(s => s !== '')
  if (scopes.length === 0) throw new TokenRequestError('--scope needs at least one scope')
  const unknown = scopes.filter(s => !(ALL_SCOPES as readonly string[]).includes(s))
  if (unknown.length > 0) throw new TokenRequestError(`unknown scope ${unknown.join(', ')} (known: ${ALL_SCOPES.join(', ')})`)
  return scopes
}

export interface SignedToken {
  token: string
  /** The token's id, to revoke it by (`docker-gateway token revoke <jti>`). */
  jti: string
  /** Expiry, Unix seconds. */
  exp: number
}

export function signToken (secret: string, req: TokenRequest): SignedToken {
  const scopes = checkScopes(req.scope)
  if (req.sub.trim() === '') throw new TokenRequestError('--sub must not be empty')
  // 128 random bits: unique without any coordination between replicas or
  // runs of the command, so revoking one jti never ends another token.
  const jti = randomBytes(16).toString('base64url')
  const exp = Math.floor((Date.now() + req.ttlMs) / 1000)
  const payload: Record<string, unknown> = { sub: req.sub, scope: scopes.join(' '), jti, exp }
  if (req.hosts !== undefined) payload.hosts = req.hosts
  const sign = createSigner({
    key: secret,
    algorithm: 'HS256',
    ...(req.issuer !== undefined ? { iss: req.issuer } : {}),
    ...(req.audience !== undefined ? { aud: req.audience } : {})
  })
  return { token: sign(payload), jti, exp }
}
