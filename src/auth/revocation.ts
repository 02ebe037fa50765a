/**
 * Token revocation (issue 13 item 7): a list of revoked `jti` claims, each
 * kept until the token it names would have expired anyway (its `exp`), after
 * which the signature check refuses the token by itself and the entry can go.
 *
 * The list lives in a store every gateway replica and the `token revoke`
 * command share (Redis when `redisUrl` is set, else a file in the data
 * folder). Each gateway keeps a copy in memory and re-reads the store every
 * SYNC_INTERVAL_MS, so the check on the request path is a Map lookup, made on
 * every request, verified-token cache hits included: a revoked token is
 * refused within about a second everywhere.
 *
 * Tokens without a `jti` (those of issuers that do not set one) cannot be
 * named on the list, and keep working until their `exp`.
 */

/** How often a gateway re-reads the shared list: the bound on "refused everywhere within a second". */
export const SYNC_INTERVAL_MS = 500

/**
 * The longest a token minted by `docker-gateway token` may live (366 days).
 * It is also how long a revocation by bare jti is kept: without the token,
 * its `exp` is unknown, and no token this gateway's command signs lives longer.
 */
export const MAX_TOKEN_TTL_MS = 366 * 86_400_000

/** Latest exp accepted (9999-12-31T23:59:59Z): keeps the arithmetic in safe integers. */
const MAX_EXP = 253_402_300_799

/** RFC 7519 §4.1.7: a case-sensitive string; bounded here, printable, no spaces (it is shown in logs and CLI output). */
const JTI = /^[\x21-\x7e]{1,256}$/

export interface Revocation {
  jti: string
  /** Unix seconds: the token's exp, or now + MAX_TOKEN_TTL_MS when it was revoked by bare jti. */
  exp: number
}

/** A revoke request that cannot be honoured; `message` is meant for the person who sent it. */
export class RevocationRequestError extends Error {
  override name = 'RevocationRequestError'
}

export function checkJti (jti: unknown): string {
  if (typeof jti !== 'string' || !JTI.test(jti)) {
    throw new RevocationRequestError('jti must be a string of 1 to 256 printable ASCII characters without spaces')
  }
  return jti
}

function checkExp (exp: unknown): number {
  if (typeof exp !== 'number' || !Number.isSafeInteger(exp) || exp <= 0 || exp > MAX_EXP) {
    throw new RevocationRequestError('exp must be the token\'s expiry in Unix seconds (a positive integer)')
  }
  return exp
}

const defaultExp = (nowMs: number): number => Math.ceil((nowMs + MAX_TOKEN_TTL_MS) / 1000)

/** A compact JWS (header.payload.signature), as opposed to a bare jti. */
export function looksLikeToken (text: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text)
}

/**
 * The jti and exp of a whole token, read WITHOUT checking its signature.
 * Revoking only ever refuses more: the worst a forged token can do here is
 * put a jti on the list, which the admin asking could do by naming the jti.
 * Verifying would instead make some tokens impossible to revoke: those of an
 * identity provider (the CLI holds no key to check them with), and those
 * signed with a key since rotated out while the token is still in someone's
 * hands elsewhere.
 */
export function revocationFromToken (token: string, nowMs: number = Date.now()): Revocation {
  if (!looksLikeToken(token)) throw new RevocationRequestError('token is not a JWT (header.payload.signature)')
  let claims: unknown
  try {
    claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'))
  } catch {
    throw new RevocationRequestError('token is not a JWT: its payload is not JSON')
  }
  if (claims === null || typeof claims !== 'object') throw new RevocationRequestError('token is not a JWT: its payload is not a JSON object')
  const { jti, exp } = claims as Record<string, unknown>
  if (jti === undefined) {
    throw new RevocationRequestError('the token has no jti claim, so it cannot be revoked by itself; it stays valid until its exp (rotate the signing key to end every token at once)')
  }
  return { jti: checkJti(jti), exp: exp === undefined ? defaultExp(nowMs) : checkExp(exp) }
}

/** A bare jti, with the exp when the caller knows it. */
export function revocationOfJti (jti: unknown, exp: unknown, nowMs: number = Date.now()): Revocation {
  return { jti: checkJti(jti), exp: exp === undefined ? defaultExp(nowMs) : checkExp(exp) }
}

/** The body of `POST /tokens/revoke`: `{"jti": "...", "exp": N}` (exp optional) or `{"token": "..."}`. */
export function revocationFromBody (body: unknown, nowMs: number = Date.now()): Revocation {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RevocationRequestError('the body must be a JSON object: {"jti": "...", "exp": <unix seconds>} or {"token": "..."}')
  }
  const fields = body as Record<string, unknown>
  const unknown = Object.keys(fields).filter(k => k !== 'jti' && k !== 'exp' && k !== 'token')
  if (unknown.length > 0) throw new RevocationRequestError(`unknown field ${unknown.join(', ')} (expected jti and exp, or token)`)
  if (fields.token !== undefined) {
    if (fields.jti !== undefined || fields.exp !== undefined) throw new RevocationRequestError('send either token, or jti (and exp), not both')
    if (typeof fields.token !== 'string') throw new RevocationRequestError('token must be a string')
    return revocationFromToken(fields.token, nowMs)
  }
  if (fields.jti === undefined) throw new RevocationRequestError('jti or token is required')
  return revocationOfJti(fields.jti, fields.exp, nowMs)
}

export function hasExpired (entry: Revocation, nowMs: number): boolean {
  return entry.exp * 1000 <= nowMs
}

/** What the route answers and the command prints: the entry, and whether it was stored. */
export interface RevokeAnswer {
  jti: string
  exp: number
  /** exp as an ISO 8601 date: when the entry leaves the list. */
  expires: string
  stored: boolean
  /** Why nothing was stored. */
  note?: string
}

export function revokeAnswer (entry: Revocation, stored: boolean): RevokeAnswer {
  const answer: RevokeAnswer = { jti: entry.jti, exp: entry.exp, expires: new Date(entry.exp * 1000).toISOString(), stored }
  if (!stored) answer.note = 'the token has already expired: nothing to revoke'
  return answer
}

/** jti -> exp (Unix seconds) */
export type RevokedEntries = Map<string, number>

/** Where the list is kept; see revocation-file.ts and revocation-redis.ts. */
export interface RevocationStore {
  /** Human-readable, for logs and the CLI: `redis://...` or the file's path. */
  readonly where: string
  /** The live entries, or undefined when nothing changed since the last call (cheap to poll). */
  load: (nowMs: number) => Promise<RevokedEntries | undefined>
  /** Add (or extend) an entry; resolves with what is stored for the jti. */
  add: (entry: Revocation, nowMs: number) => Promise<Revocation>
  close: () => Promise<void>
}

/** Entries whose token has not expired yet. */
export function liveEntries (entries: Iterable<readonly [string, number]>, nowMs: number): RevokedEntries {
  const nowSec = nowMs / 1000
  const live: RevokedEntries = new Map()
  for (const [jti, exp] of entries) if (exp > nowSec) live.set(jti, Math.max(exp, live.get(jti) ?? 0))
  return live
}

/**
 * A gateway's in-memory copy of the shared list, re-read from the store every
 * SYNC_INTERVAL_MS. When the store cannot be read (Redis down, a half-written
 * file), the last good copy stays in force and a warning is logged: an
 * outage must neither bring revoked tokens back nor take the gateway down.
 * How old a copy may still vouch for a token is src/redis-down.ts's call
 * (config redisDown), from readAgoMs().
 */
export class RevocationList {
  private entries: RevokedEntries = new Map()
  /** Local adds not yet known to be in what a sync read (numbered in the order they completed). */
  private recent: Array<{ seq: number, entry: Revocation }> = []
  private seq = 0
  private timer: NodeJS.Timeout | undefined
  private syncing: Promise<void> | undefined
  private lastWarning = 0
  /** When the last good read began (what it holds is at least that recent); undefined: never read. */
  private readAt: number | undefined

  constructor (
    readonly store: RevocationStore,
    private readonly warn: (err: Error, message: string) => void,
    private readonly now: () => number = Date.now
  ) {}

  get size (): number { return this.entries.size }

  /**
   * First load, then poll. A list that cannot be read at start is an error
   * (a damaged file must be fixed, not ignored) unless `tolerateFailure`: an
   * unreachable Redis is waited for, as the rate limit waits for it, and the
   * list is in force from its first answer.
   */
  async start (opts: { tolerateFailure: boolean, intervalMs?: number }): Promise<void> {
    await this.sync(!opts.tolerateFailure)
    this.timer = setInterval(() => { void this.sync(false) }, opts.intervalMs ?? SYNC_INTERVAL_MS)
    this.timer.unref()
  }

  /** How long ago the store was last read successfully; undefined before the first good read. */
  readAgoMs (): number | undefined {
    return this.readAt === undefined ? undefined : this.now() - this.readAt
  }

  isRevoked (jti: string): boolean {
    const exp = this.entries.get(jti)
    return exp !== undefined && exp * 1000 > this.now()
  }

  async revoke (entry: Revocation): Promise<Revocation> {
    const stored = await this.store.add(entry, this.now())
    // Seen here at once; other replicas see it at their next sync.
    this.entries.set(stored.jti, stored.exp)
    this.recent.push({ seq: ++this.seq, entry: stored })
    return stored
  }

  async close (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    await this.syncing
    await this.store.close()
  }

  private async sync (throwErrors: boolean): Promise<void> {
    if (this.syncing !== undefined) return
    this.syncing = (async () => {
      try {
        const now = this.now()
        const before = this.seq
        const loaded = await this.store.load(now)
        // A load that began before a local add finished may not hold it: keep
        // such adds on top until a later load has surely read them.
        const entries = liveEntries(loaded ?? this.entries, now)
        for (const { entry } of this.recent) if (entry.exp * 1000 > now) entries.set(entry.jti, Math.max(entry.exp, entries.get(entry.jti) ?? 0))
        this.recent = this.recent.filter(r => r.seq > before)
        this.entries = entries
        this.readAt = now
      } catch (err) {
        if (throwErrors) throw err
        if (this.now() - this.lastWarning >= 30_000) {
          this.lastWarning = this.now()
          this.warn(err as Error, `token revocation: cannot read ${this.store.where}; the last list read stays in force`)
        }
      }
    })()
    try { await this.syncing } finally { this.syncing = undefined }
  }
}
