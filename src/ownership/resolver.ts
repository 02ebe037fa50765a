import type { UpstreamHost } from '../upstream/hosts'
import { FULL_ID, type OwnedContainer } from './rules'

/**
 * Resolves a container reference the way the daemon does (full id, then
 * exact name, then unique id prefix: daemon/container.go GetContainer) by
 * asking the daemon itself, and learns the container's owner label.
 *
 * The owner of an id never changes (labels are immutable after create and
 * ids are never reused), so id -> owner is cached; name -> id is not, since
 * a name can move to a new container the moment the old one is removed.
 * Callers then address the daemon by the full id only, so a stale lookup can
 * never redirect a call to a container that took over a removed one's name.
 */

export type Resolution =
  | { found: true, id: string, owner: string | undefined }
  | { found: false, status: number, body: string }

export class ContainerResolver {
  private readonly owners = new Map<string, string | undefined>()
  private readonly execs = new Map<string, string>()
  readonly ownerLabel: string
  private readonly maxEntries: number
  private readonly timeoutMs: number

  constructor (opts: { ownerLabel: string, maxEntries?: number, timeoutMs?: number }) {
    this.ownerLabel = opts.ownerLabel
    this.maxEntries = opts.maxEntries ?? 100_000
    this.timeoutMs = opts.timeoutMs ?? 10_000
  }

  private remember<V> (map: Map<string, V>, key: string, value: V): void {
    if (map.size >= this.maxEntries) {
      // Evict the oldest insertion (Map keeps insertion order): a bounded cache, never a leak.
      const first = map.keys().next()
      if (first.done !== true) map.delete(first.value)
    }
    map.set(key, value)
  }

  /**
   * One lookup through the host's client: a daemon that cannot be reached
   * counts against its circuit breaker and throws Docker's 502/504.
   */
  private async get (host: UpstreamHost, path: string): Promise<{ status: number, text: string }> {
    const res = await host.call({ path, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs })
    // No maxBytes given, so the whole body was read.
    return { status: res.status, text: res.text as string }
  }

  /** Resolve `ref` on `host` to its full id and owner. */
  async resolve (host: UpstreamHost, ref: string): Promise<Resolution> {
    if (FULL_ID.test(ref)) {
      const key = `${host.name}/${ref}`
      if (this.owners.has(key)) return { found: true, id: ref, owner: this.owners.get(key) }
    }
    const res = await this.get(host, `/containers/${encodeURIComponent(ref)}/json`)
    if (res.status !== 200) return { found: false, status: res.status, body: res.text }
    const info = JSON.parse(res.text) as { Id: string, Config?: { Labels?: Record<string, string> | null } }
    const owner = info.Config?.Labels?.[this.ownerLabel]
    this.remember(this.owners, `${host.name}/${info.Id}`, owner)
    return { found: true, id: info.Id, owner }
  }

  /**
   * The caller's own containers on `host` (all states), by the owner label:
   * the daemon ANDs the label filter (daemon/list.go), so only rows carrying
   * `<ownerLabel>=<principal>` come back. What is learnt is cached as id ->
   * owner like a resolve.
   */
  async listOwned (host: UpstreamHost, principal: string): Promise<{ ok: true, containers: OwnedContainer[] } | { ok: false, status: number, body: string }> {
    const filters = JSON.stringify({ label: [`${this.ownerLabel}=${principal}`] })
    const res = await this.get(host, `/containers/json?all=1&filters=${encodeURIComponent(filters)}`)
    if (res.status !== 200) return { ok: false, status: res.status, body: res.text }
    const containers = JSON.parse(res.text) as OwnedContainer[]
    return { ok: true, containers }
  }

  /** Remember that `id` on `host` belongs to `owner` (learnt from a list). */
  learn (host: UpstreamHost, id: string, owner: string): void {
    this.remember(this.owners, `${host.name}/${id}`, owner)
  }

  /** Resolve an exec id to its container (exec ids are global on a daemon). */
  async resolveExec (host: UpstreamHost, execId: string): Promise<Resolution> {
    const key = `${host.name}/${execId}`
    let containerId = this.execs.get(key)
    if (containerId === undefined) {
      const res = await this.get(host, `/exec/${execId}/json`)
      if (res.status !== 200) return { found: false, status: res.status, body: res.text }
      containerId = (JSON.parse(res.text) as { ContainerID: string }).ContainerID
      this.remember(this.execs, key, containerId)
    }
    return await this.resolve(host, containerId)
  }

  /** Forget a removed container (keeps the cache small; correctness never depends on it). */
  forget (host: UpstreamHost, id: string): void {
    this.owners.delete(`${host.name}/${id}`)
  }

  get size (): number {
    return this.owners.size
  }
}
