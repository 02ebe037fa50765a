import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { liveEntries, type Revocation, type RevocationStore, type RevokedEntries } from './revocation'

/**
 * The revocation list in the data folder (no Redis configured): one JSON file,
 * `{"revoked": {"<jti>": <exp>, ...}}`, written by the gateway's route and by
 * `docker-gateway token revoke`, read by every gateway using that folder.
 *
 * Writers take a lock file (created exclusively, so the command and a
 * running gateway never lose each other's entry in a read-modify-write),
 * drop expired entries, and replace the file by rename, so a reader sees
 * the old list or the new one, never half of one. Readers stat the file and
 * re-read it only when its inode, size or mtime changed.
 */

export const REVOCATION_FILE = 'revoked-tokens.json'

/** A lock older than this was left by a writer that died mid-write. */
const STALE_LOCK_MS = 10_000
const LOCK_WAIT_MS = 5_000

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

function parseList (text: string, file: string): RevokedEntries {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message})`)
  }
  const revoked = (data as { revoked?: unknown } | null)?.revoked
  if (revoked === null || typeof revoked !== 'object' || Array.isArray(revoked)) throw new Error(`${file}: expected {"revoked": {"<jti>": <exp>, ...}}`)
  const entries: RevokedEntries = new Map()
  for (const [jti, exp] of Object.entries(revoked as Record<string, unknown>)) {
    if (typeof exp !== 'number') throw new Error(`${file}: the exp of ${JSON.stringify(jti)} is not a number`)
    entries.set(jti, exp)
  }
  return entries
}

export class FileRevocationStore implements RevocationStore {
  readonly where: string
  private readonly dataDir: string
  private readonly file: string
  private seen: string | undefined

  constructor (dataDir: string) {
    this.dataDir = dataDir
    this.file = join(dataDir, REVOCATION_FILE)
    this.where = this.file
  }

  async load (nowMs: number): Promise<RevokedEntries | undefined> {
    let signature: string
    try {
      const s = await stat(this.file, { bigint: true })
      signature = `${s.ino}:${s.size}:${s.mtimeNs}`
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      signature = 'absent'
    }
    if (signature === this.seen) return undefined
    const entries = signature === 'absent' ? new Map() : liveEntries(await this.read(), nowMs)
    this.seen = signature
    return entries
  }

  async add (entry: Revocation, nowMs: number): Promise<Revocation> {
    // As ensureDataDir (secret.ts): the folder also holds the signing secret, owner only.
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 })
    return await this.locked(async () => {
      const entries = liveEntries(await this.read(), nowMs)
      const exp = Math.max(entry.exp, entries.get(entry.jti) ?? 0)
      entries.set(entry.jti, exp)
      const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`
      await writeFile(tmp, `${JSON.stringify({ revoked: Object.fromEntries(entries) }, null, 1)}\n`, { mode: 0o600, flag: 'wx' })
      await rename(tmp, this.file)
      return { jti: entry.jti, exp }
    })
  }

  async close (): Promise<void> {}

  private async read (): Promise<RevokedEntries> {
    try {
      return parseList(await readFile(this.file, 'utf8'), this.file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
      throw err
    }
  }

  private async locked<T> (fn: () => Promise<T>): Promise<T> {
    const lock = `${this.file}.lock`
    const deadline = Date.now() + LOCK_WAIT_MS
    for (;;) {
      try {
        await (await open(lock, 'wx', 0o600)).close()
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        const age = await stat(lock).then(s => Date.now() - s.mtimeMs, () => 0)
        if (age > STALE_LOCK_MS) await unlink(lock).catch(() => {})
        else if (Date.now() > deadline) throw new Error(`${lock} is held by another writer; try again (or delete it if no gateway or command is writing)`)
        else await sleep(20)
      }
    }
    try {
      return await fn()
    } finally {
      await unlink(lock).catch(() => {})
    }
  }
}
