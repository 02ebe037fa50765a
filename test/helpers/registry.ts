// A private image registry for the image-pull tests: Debian's `docker-registry`
// (distribution 2.x) on 127.0.0.1 on a free port, its storage in its own
// directory, torn down like the harness's daemons and redis (a record in
// /tmp/dgw-harness/records naming this test process as owner, and a watchdog
// that kills the registry and removes its directory if this process dies).
//
// Daemons treat registries on 127.0.0.0/8 as insecure (plain HTTP) by default,
// so pushing and pulling need no TLS and no daemon option.
//
//   if (requireRegistry(t)) {
//     const reg = await startRegistry(t)                         // stopped at teardown
//     const { ref } = await pushImage(reg, { repo: 'app', tag: 'v1' })  // 127.0.0.1:PORT/app:v1
//     await removeImage(ref)                                     // a later pull really pulls
//   }
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { RECORDS_DIR, ROOT, cleanupStale, forceCleanup, isAlive, procStart, readRecord } from '../harness/cleanup.cjs'
import { spawnReaper } from '../harness/dockerd'
import { TEST_IMAGE } from '../harness/image'
import { freePort, sleep } from '../harness/net'
import { docker, type EngineTarget } from './docker'
import { daemon, type TapLike } from './env'

export interface Registry {
  /** `127.0.0.1:PORT`, the registry part of an image reference. */
  readonly host: string
  readonly port: number
  /** `http://127.0.0.1:PORT` (the registry API is under /v2/). */
  readonly url: string
  /** Its directory under /tmp/dgw-harness (config, storage, log). */
  readonly dir: string
  /** The registry's log so far: one access line per API call (`"GET /v2/app/manifests/v1 HTTP/1.1" 200`). */
  log (): string
  stop (): Promise<void>
}

export function registryInstalled (): boolean {
  try {
    execFileSync('docker-registry', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** True when docker-registry is installed; otherwise records a skip (or, in CI, a failure). */
export function requireRegistry (t: TapLike): boolean {
  if (registryInstalled()) return true
  const msg = '!!! IMAGE REGISTRY NOT AVAILABLE: docker-registry is not installed (apt-get install docker-registry)'
  if (process.env.CI === 'true' || process.env.CI === '1') t.fail(`${msg} (CI=true: integration tests must run)`)
  else t.pass(msg, { skip: 'integration tests SKIPPED' })
  return false
}

function configYaml (dir: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ''
  ].join('\n')
}

async function answers (url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) })
    await res.arrayBuffer()
    return res.status === 200
  } catch {
    return false
  }
}

class PrivateRegistry implements Registry {
  constructor (readonly port: number, readonly dir: string, private readonly record: string) {}

  get host (): string { return `127.0.0.1:${this.port}` }
  get url (): string { return `http://${this.host}` }

  log (): string {
    try { return fs.readFileSync(path.join(this.dir, 'registry.log'), 'utf8') } catch { return '' }
  }

  async stop (): Promise<void> {
    const r = readRecord(this.record)
    const pid = r?.pid !== undefined && isAlive(r.pid, r.pidStart) ? r.pid : undefined
    if (pid !== undefined) {
      try { process.kill(pid, 'SIGTERM') } catch {}
      for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50)
    }
    forceCleanup(r ?? { dir: this.dir })
    fs.rmSync(this.record, { force: true })
  }
}

/** Start a registry on 127.0.0.1:<free port>; with `t`, it is stopped at t's teardown. */
export async function startRegistry (t?: { teardown: (fn: () => unknown) => void }): Promise<Registry> {
  cleanupStale()
  const port = await freePort()
  const name = `registry-${port}`
  const dir = path.join(ROOT, name)
  const record = path.join(RECORDS_DIR, `${name}.json`)
  fs.mkdirSync(RECORDS_DIR, { recursive: true })
  fs.writeFileSync(record, JSON.stringify({ kind: 'registry', name, ownerPid: process.pid, ownerStart: procStart(process.pid), dir, port }), { flag: 'wx' })
  spawnReaper(record)
  const registry = new PrivateRegistry(port, dir, record)
  t?.teardown(async () => { await registry.stop() })
  try {
    fs.mkdirSync(path.join(dir, 'storage'), { recursive: true })
    const config = path.join(dir, 'config.yml')
    fs.writeFileSync(config, configYaml(dir, port))
    // The config path names the directory on the command line: how the
    // watchdog and the stale sweep find the process after a crash.
    const logFd = fs.openSync(path.join(dir, 'registry.log'), 'a')
    const child = spawn('docker-registry', ['serve', config], { detached: true, stdio: ['ignore', logFd, logFd] })
    fs.closeSync(logFd)
    child.unref()
    let exited = false
    child.on('exit', () => { exited = true })
    if (child.pid !== undefined) {
      fs.writeFileSync(record, JSON.stringify({ ...readRecord(record), pid: child.pid, pidStart: procStart(child.pid) }))
    }
    const deadline = Date.now() + 15_000
    while (!(await answers(registry.url))) {
      if (exited || Date.now() > deadline) {
        throw new Error(`docker-registry on ${registry.host} did not answer GET /v2/${exited ? ' (it exited)' : ''}:\n${registry.log().slice(-2000)}`)
      }
      await sleep(50)
    }
    return registry
  } catch (err) {
    await registry.stop()
    throw err
  }
}

/** X-Registry-Auth for a registry without authentication: base64 of `{}` (the daemon requires the header on push). */
export const NO_REGISTRY_AUTH = Buffer.from('{}').toString('base64')

/** The JSON lines of a push or pull progress stream; throws on the first `error` line. */
export function progressMessages (text: string, what: string): Array<Record<string, any>> {
  const messages = text.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as Record<string, any>)
  const failed = messages.find(m => m.error !== undefined || m.errorDetail !== undefined)
  if (failed !== undefined) throw new Error(`${what}: ${String(failed.error ?? failed.errorDetail?.message)}`)
  return messages
}

export interface PushOptions {
  /** Repository in the registry, e.g. `app` or `team/app`. */
  repo: string
  /** Default `latest`. */
  tag?: string
  /** Local image to push; default the test image (dgw-busybox:test). */
  source?: string
  /**
   * Push an image of its own (the source plus a layer holding `/dgw-registry-marker`)
   * instead of the source itself: after removeImage() the daemon holds none of its
   * layers, so a pull downloads them from the registry.
   */
  distinct?: boolean
  /** The daemon that pushes; default the run's primary daemon. */
  target?: EngineTarget
}

export interface Pushed {
  /** `127.0.0.1:PORT/repo:tag` */
  ref: string
  /** `127.0.0.1:PORT/repo` (fromImage of a pull) */
  name: string
  tag: string
  /** The manifest digest the registry stored (`sha256:...`), from the push's aux message. */
  digest: string
  /** The pushed image's id on the daemon. */
  imageId: string
}

async function commitDistinct (source: string, name: string, tag: string, target: EngineTarget): Promise<void> {
  const marker = `${name}:${tag} ${Date.now()} ${Math.random()}`
  const created = await docker('/containers/create', { target, json: { Image: source, Cmd: ['sh', '-c', `echo '${marker}' > /dgw-registry-marker`] } })
  if (created.status !== 201) throw new Error(`create for ${name}:${tag}: ${created.status} ${created.text}`)
  const id = created.body.Id as string
  try {
    const started = await docker(`/containers/${id}/start`, { target, method: 'POST' })
    if (started.status !== 204) throw new Error(`start for ${name}:${tag}: ${started.status} ${started.text}`)
    await docker(`/containers/${id}/wait`, { target, method: 'POST' })
    const committed = await docker('/commit', { target, method: 'POST', query: { container: id, repo: name, tag }, json: {} })
    if (committed.status !== 201) throw new Error(`commit ${name}:${tag}: ${committed.status} ${committed.text}`)
  } finally {
    await docker(`/containers/${id}`, { target, method: 'DELETE', query: { force: 1 } })
  }
}

/**
 * Tag an image as `127.0.0.1:PORT/<repo>:<tag>` on the daemon and push it into
 * the registry (POST /images/{name}/push with X-Registry-Auth). The local tag
 * stays; removeImage(ref) drops it.
 */
export async function pushImage (registry: Registry, opts: PushOptions): Promise<Pushed> {
  const target = opts.target ?? daemon()
  const source = opts.source ?? TEST_IMAGE
  const tag = opts.tag ?? 'latest'
  const name = `${registry.host}/${opts.repo}`
  const ref = `${name}:${tag}`
  if (opts.distinct === true) {
    await commitDistinct(source, name, tag, target)
  } else {
    const tagged = await docker(`/images/${source}/tag`, { target, method: 'POST', query: { repo: name, tag } })
    if (tagged.status !== 201) throw new Error(`tag ${source} as ${ref}: ${tagged.status} ${tagged.text}`)
  }
  const pushed = await docker(`/images/${name}/push`, {
    target,
    method: 'POST',
    query: { tag },
    headers: { 'X-Registry-Auth': NO_REGISTRY_AUTH },
    timeoutMs: 120_000
  })
  if (pushed.status !== 200) throw new Error(`push ${ref}: ${pushed.status} ${pushed.text}`)
  const messages = progressMessages(pushed.text, `push ${ref}`)
  const digest = messages.map(m => m.aux?.Digest).find(d => typeof d === 'string') as string | undefined
  if (digest === undefined) throw new Error(`push ${ref}: no digest in the answer:\n${pushed.text}`)
  const inspect = await docker(`/images/${ref}/json`, { target })
  return { ref, name, tag, digest, imageId: inspect.body.Id as string }
}

/**
 * Remove an image reference from the daemon (DELETE /images/{ref}); an image no
 * other tag holds goes with its layers, so a later pull fetches it from the
 * registry again. Already absent is fine; in use by a container is an error
 * (remove the container first, or pass force).
 */
export async function removeImage (ref: string, opts: { target?: EngineTarget, force?: boolean } = {}): Promise<void> {
  const res = await docker(`/images/${ref}`, { target: opts.target ?? daemon(), method: 'DELETE', query: opts.force === true ? { force: 1 } : {} })
  if (res.status !== 200 && res.status !== 404) throw new Error(`remove image ${ref}: ${res.status} ${res.text}`)
}

/** Whether the daemon has the image (GET /images/{ref}/json answers 200). */
export async function hasImage (ref: string, target?: EngineTarget): Promise<boolean> {
  const res = await docker(`/images/${ref}/json`, { target: target ?? daemon() })
  return res.status === 200
}
