// Private Docker daemons for tests: each with its own data root, exec root,
// pid file, TCP port, unix socket and bridge, so several can run beside a
// developer's daemon (which owns docker0) without touching it.
//
// Why a bridge of our own instead of `--bridge none`: with `none`, dockerd
// deletes the default docker0 bridge at start, pulling it from under any other
// daemon using it (moby/moby libnetwork "bridge" driver cleanup).
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {
  RECORDS_DIR, ROOT, cleanupStale, forceCleanup, isAlive, procStart, processesMentioning, readRecord,
  type ResourceRecord
} from './cleanup.cjs'
import { engineRequest, ping } from './engine'
import { TEST_IMAGE, ensureTestImage } from './image'
import { freePort, sleep } from './net'

export interface DaemonOptions {
  /** a label for logs and error messages */
  name: string
  /** N in br-dgwN / 172.30.N.0/24; default: the first free N from 1 */
  bridgeIndex?: number
  /** process whose death makes the daemon garbage (a watchdog then removes it); default this process */
  ownerPid?: number
  /** import the test image (default true) */
  importImage?: boolean
  /** how long to wait for /_ping after a start (default 30 s) */
  startTimeoutMs?: number
}

export interface Daemon {
  readonly name: string
  readonly index: number
  /** the daemon's own bridge, br-dgwN */
  readonly bridge: string
  /** 172.30.N.0/24 */
  readonly subnet: string
  /** tcp://127.0.0.1:PORT, what DOCKER_HOST / GATEWAY_UPSTREAM take */
  readonly url: string
  /** http://127.0.0.1:PORT */
  readonly httpUrl: string
  readonly port: number
  /** the daemon also listens on this unix socket (for unix:// upstreams) */
  readonly socketPath: string
  readonly image: string
  readonly dir: string
  readonly logFile: string
  /** dockerd's pid while running */
  readonly pid: number | undefined
  readonly running: boolean
  /** milliseconds spent in the first start and in the image import */
  readonly timings: { start: number, import: number }
  /** start again on the same data root, port and bridge (after stop() or kill()) */
  start(): Promise<void>
  /** graceful stop (SIGTERM); running containers are killed first so it takes ~1 s, not 10 s each */
  stop(): Promise<void>
  /** crash: SIGKILL dockerd, containerd and the containers' shims */
  kill(): Promise<void>
  /** freeze dockerd (SIGSTOP): connections are accepted by the kernel but never answered */
  pause(): void
  resume(): void
  /** stop, remove containers, delete bridge and directories; idempotent */
  destroy(): Promise<void>
  /** last lines of the daemon's log, for error messages */
  logTail(lines?: number): string
}

const MAX_INDEX = 254

function ipToInt (ip: string): number {
  return ip.split('.').reduce((acc, part) => (acc * 256) + Number(part), 0)
}

/** IPv4 networks (base, prefix) that routes or addresses on this host already use. */
function usedNetworks (): Array<[number, number]> {
  const nets: Array<[number, number]> = []
  try {
    const routes = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' })
    for (const m of routes.matchAll(/(?:^|\s)(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)) {
      const prefix = m[2] === undefined ? 32 : Number(m[2])
      if (m[1] && prefix > 0) nets.push([ipToInt(m[1]), prefix])
    }
  } catch {}
  return nets
}

function overlaps (a: [number, number], b: [number, number]): boolean {
  const prefix = Math.min(a[1], b[1])
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0
  return ((a[0] & mask) >>> 0) === ((b[0] & mask) >>> 0)
}

function linkExists (name: string): boolean {
  return fs.existsSync(`/sys/class/net/${name}`)
}

/** True when another process (e.g. a hand-started dockerd) names this bridge. */
function bridgeInUse (bridge: string): boolean {
  return processesMentioning(`--bridge ${bridge} `).length > 0 || processesMentioning(`--bridge=${bridge} `).length > 0
}

const recordFile = (index: number): string => path.join(RECORDS_DIR, `d${index}.json`)

/**
 * Claim an index by creating its record file exclusively (O_EXCL): two test
 * processes starting daemons at once never get the same bridge.
 */
function claimIndex (record: Omit<ResourceRecord, 'dir'>, wanted?: number): number {
  fs.mkdirSync(RECORDS_DIR, { recursive: true })
  const used = usedNetworks()
  const candidates = wanted === undefined ? Array.from({ length: MAX_INDEX }, (_, i) => i + 1) : [wanted]
  for (const index of candidates) {
    if (!Number.isInteger(index) || index < 1 || index > MAX_INDEX) throw new Error(`bridgeIndex must be 1..${MAX_INDEX}`)
    const bridge = `br-dgw${index}`
    const subnet: [number, number] = [ipToInt(`172.30.${index}.0`), 24]
    if (linkExists(bridge) || bridgeInUse(bridge) || used.some(n => overlaps(n, subnet))) continue
    try {
      fs.writeFileSync(recordFile(index), JSON.stringify({ ...record, dir: path.join(ROOT, `d${index}`), bridge }), { flag: 'wx' })
      return index
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  throw new Error(wanted === undefined
    ? 'no free bridge index for a private dockerd'
    : `bridge index ${wanted} is taken (br-dgw${wanted} exists, is claimed, or 172.30.${wanted}.0/24 is routed)`)
}

/** Environment for helper processes: without tap's loaders and coverage hooks. */
function cleanEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k === 'NODE_V8_COVERAGE' || k.startsWith('_TAPJS_') || k.startsWith('TAP')) continue
    env[k] = v
  }
  return env
}

/** Watchdog that cleans the resource up if its owner dies without destroy(). */
export function spawnReaper (file: string): void {
  const child = spawn(process.execPath, [path.join(__dirname, 'cleanup.cjs'), 'watch', file], {
    detached: true,
    stdio: 'ignore',
    env: cleanEnv()
  })
  child.unref()
}

function ip (...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

class PrivateDaemon implements Daemon {
  readonly name: string
  readonly index: number
  readonly bridge: string
  readonly subnet: string
  readonly port: number
  readonly url: string
  readonly httpUrl: string
  readonly socketPath: string
  readonly image = TEST_IMAGE
  readonly dir: string
  readonly logFile: string
  readonly timings = { start: 0, import: 0 }
  private readonly record: string
  private readonly startTimeoutMs: number
  private destroyed = false

  constructor (index: number, port: number, name: string, startTimeoutMs = 30_000) {
    this.name = name
    this.index = index
    this.bridge = `br-dgw${index}`
    this.subnet = `172.30.${index}.0/24`
    this.port = port
    this.url = `tcp://127.0.0.1:${port}`
    this.httpUrl = `http://127.0.0.1:${port}`
    this.dir = path.join(ROOT, `d${index}`)
    // short on purpose: unix socket paths are limited to 107 bytes, and
    // containerd puts its own sockets under the exec root
    this.socketPath = path.join(this.dir, 'docker.sock')
    this.logFile = path.join(this.dir, 'dockerd.log')
    this.record = recordFile(index)
    this.startTimeoutMs = startTimeoutMs
  }

  private readRecord (): ResourceRecord {
    const r = readRecord(this.record)
    if (!r) throw new Error(`daemon ${this.name}: record ${this.record} is gone`)
    return r
  }

  private updateRecord (patch: Partial<ResourceRecord>): void {
    const r = { ...this.readRecord(), ...patch }
    const tmp = `${this.record}.${process.pid}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(r))
    fs.renameSync(tmp, this.record)
  }

  /** the harness talks TCP; the unix socket is there for tests of unix:// upstreams */
  get tcp (): { httpUrl: string } {
    return { httpUrl: this.httpUrl }
  }

  get pid (): number | undefined {
    const r = readRecord(this.record)
    return r?.pid && isAlive(r.pid, r.pidStart) ? r.pid : undefined
  }

  get running (): boolean {
    return this.pid !== undefined
  }

  logTail (lines = 40): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n')
        .filter(l => !l.includes('module=grpc')) // connection chatter, never the cause
        .slice(-lines).join('\n')
    } catch {
      return '(no log)'
    }
  }

  /** first start: directories, config and bridge */
  prepare (): void {
    for (const d of ['data', 'e']) fs.mkdirSync(path.join(this.dir, d), { recursive: true })
    // an empty config file keeps the host's /etc/docker/daemon.json (e.g. a
    // "hosts" entry, which conflicts with -H) out of the test daemon
    fs.writeFileSync(path.join(this.dir, 'daemon.json'), '{}\n')
    ip('link', 'add', this.bridge, 'type', 'bridge')
    ip('addr', 'add', `172.30.${this.index}.1/24`, 'dev', this.bridge)
    ip('link', 'set', this.bridge, 'up')
  }

  async start (): Promise<void> {
    if (this.destroyed) throw new Error(`daemon ${this.name} was destroyed`)
    if (this.running) return
    const t0 = Date.now()
    const log = fs.openSync(this.logFile, 'a')
    const args = [
      '-H', this.url,
      '-H', `unix://${this.socketPath}`,
      '--data-root', path.join(this.dir, 'data'),
      '--exec-root', path.join(this.dir, 'e'),
      '--pidfile', path.join(this.dir, 'dockerd.pid'),
      '--config-file', path.join(this.dir, 'daemon.json'),
      '--storage-driver', 'vfs',
      '--bridge', this.bridge,
      // no firewall or sysctl changes on the host: published ports are served
      // by docker-proxy on 127.0.0.1, which needs neither
      '--iptables=false',
      '--ip-masq=false',
      '--ip-forward=false',
      '--ip', '127.0.0.1',
      '--shutdown-timeout', '2'
    ]
    // own process group (detached) so a stop signals dockerd and its
    // containerd together; stdio to a file so nobody waits on our pipes
    const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', log, log], env: cleanEnv() })
    fs.closeSync(log)
    let exited: string | undefined
    child.on('exit', (code, signal) => { exited = `dockerd exited (${signal ?? code})` })
    child.on('error', err => { exited = `dockerd could not start: ${err.message}` })
    child.unref()
    if (child.pid) this.updateRecord({ pid: child.pid, pidStart: procStart(child.pid) })
    const deadline = Date.now() + this.startTimeoutMs
    while (!(await ping(this.tcp))) {
      if (exited || Date.now() > deadline) {
        const why = exited ?? `no answer to /_ping within ${this.startTimeoutMs} ms`
        if (!exited) await this.kill()
        throw new Error(`private dockerd "${this.name}" on ${this.url}: ${why}. Last log lines (${this.logFile}):\n${this.logTail()}`)
      }
      await sleep(100)
    }
    this.timings.start ||= Date.now() - t0
  }

  /** kill every running container, so a stop does not wait for each one's timeout */
  private async killContainers (remove: boolean): Promise<void> {
    try {
      const res = await engineRequest(this.tcp, '/containers/json', { query: { all: remove }, timeoutMs: 5000 })
      const list = JSON.parse(res.body.toString('utf8')) as Array<{ Id: string }>
      await Promise.all(list.map(async c => {
        await (remove
          ? engineRequest(this.tcp, `/containers/${c.Id}`, { method: 'DELETE', query: { force: true, v: true }, timeoutMs: 10_000 })
          : engineRequest(this.tcp, `/containers/${c.Id}/kill`, { method: 'POST', timeoutMs: 10_000 }))
      }))
    } catch {
      // best effort: a hung daemon is stopped by signals anyway
    }
  }

  private async waitGone (pids: number[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (pids.some(p => isAlive(p))) {
      if (Date.now() > deadline) return false
      await sleep(50)
    }
    return true
  }

  async stop (): Promise<void> {
    const pid = this.pid
    if (pid === undefined) return
    try { process.kill(pid, 'SIGCONT') } catch {}
    await this.killContainers(false)
    const group = processesMentioning(this.dir + '/')
    try { process.kill(-pid, 'SIGTERM') } catch {}
    if (!(await this.waitGone([pid, ...group], 20_000))) await this.kill()
    this.updateRecord({ pid: undefined, pidStart: undefined })
  }

  async kill (): Promise<void> {
    const pid = this.pid
    const strays = processesMentioning(this.dir + '/')
    if (pid !== undefined) {
      try { process.kill(-pid, 'SIGKILL') } catch {}
    }
    for (const p of strays) {
      try { process.kill(p, 'SIGKILL') } catch {}
    }
    await this.waitGone(pid === undefined ? strays : [pid, ...strays], 5000)
    // containerd runs in a session of its own and, once killed, lingers as a
    // zombie until init reaps it; dockerd only checks its pid file with
    // kill(pid, 0), would take the zombie for a live containerd and wait for
    // it in vain, so the pid files go
    for (const f of ['e/containerd/containerd.pid', 'dockerd.pid']) fs.rmSync(path.join(this.dir, f), { force: true })
    if (fs.existsSync(this.record)) this.updateRecord({ pid: undefined, pidStart: undefined })
  }

  pause (): void {
    const pid = this.pid
    if (pid === undefined) throw new Error(`daemon ${this.name} is not running`)
    process.kill(pid, 'SIGSTOP')
  }

  resume (): void {
    const pid = this.pid
    if (pid !== undefined) process.kill(pid, 'SIGCONT')
  }

  async destroy (): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    const record = readRecord(this.record)
    if (this.running) {
      try { process.kill(this.pid ?? 0, 'SIGCONT') } catch {}
      await this.killContainers(true)
      await this.stop()
    }
    forceCleanup(record ?? { dir: this.dir, bridge: this.bridge })
    fs.rmSync(this.record, { force: true })
  }
}

/**
 * Start a private dockerd. It is torn down by destroy(), or by its watchdog
 * when the owner process dies (crash, tap timeout, Ctrl-C).
 */
export async function startDaemon (opts: DaemonOptions): Promise<Daemon> {
  cleanupStale()
  const ownerPid = opts.ownerPid ?? process.pid
  const index = claimIndex({
    kind: 'dockerd',
    name: opts.name,
    ownerPid,
    ownerStart: procStart(ownerPid),
    createdAt: new Date().toISOString()
  }, opts.bridgeIndex)
  // from here on the record exists: the watchdog covers any failure below
  spawnReaper(recordFile(index))
  let daemon: PrivateDaemon | undefined
  try {
    const port = await freePort()
    daemon = new PrivateDaemon(index, port, opts.name, opts.startTimeoutMs)
    const d = daemon
    const r = readRecord(recordFile(index))
    fs.writeFileSync(recordFile(index), JSON.stringify({ ...r, port, url: d.url, socketPath: d.socketPath }))
    d.prepare()
    await d.start()
    if (opts.importImage !== false) {
      const t0 = Date.now()
      await ensureTestImage(d.tcp)
      d.timings.import = Date.now() - t0
    }
    return d
  } catch (err) {
    if (daemon) await daemon.destroy()
    else {
      forceCleanup({ dir: path.join(ROOT, `d${index}`), bridge: `br-dgw${index}` })
      fs.rmSync(recordFile(index), { force: true })
    }
    throw err
  }
}

/** Re-attach to a daemon started by another process (after.ts tears down what before.ts started). */
export function attachDaemon (index: number, name = `d${index}`): Daemon {
  const r = readRecord(recordFile(index))
  if (!r || typeof r.port !== 'number') throw new Error(`no record for daemon d${index}`)
  return new PrivateDaemon(index, r.port, typeof r.name === 'string' ? r.name : name)
}

let installed: boolean | undefined
export function dockerdInstalled (): boolean {
  if (installed === undefined) {
    try {
      execFileSync('dockerd', ['--version'], { stdio: 'ignore' })
      installed = true
    } catch {
      installed = false
    }
  }
  return installed
}
