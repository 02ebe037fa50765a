// A private redis-server for the rate-limit tests: loopback only, no
// persistence, torn down like the daemons (record + watchdog).
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { RECORDS_DIR, ROOT, cleanupStale, forceCleanup, isAlive, procStart, readRecord } from './cleanup.cjs'
import { spawnReaper } from './dockerd'
import { freePort, sleep } from './net'

export interface RedisServer {
  readonly url: string
  readonly port: number
  readonly pid: number | undefined
  stop(): Promise<void>
}

export function redisInstalled (): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

async function redisPing (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const sock = net.connect(port, '127.0.0.1')
    let data = ''
    const done = (ok: boolean): void => { sock.destroy(); resolve(ok) }
    sock.setTimeout(1000, () => done(false))
    sock.on('error', () => done(false))
    sock.on('connect', () => sock.write('PING\r\n'))
    sock.on('data', d => { data += d.toString(); if (data.includes('\r\n')) done(data.startsWith('+PONG')) })
  })
}

class PrivateRedis implements RedisServer {
  constructor (readonly port: number, private readonly record: string, private readonly dir: string) {}

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get pid (): number | undefined {
    const r = readRecord(this.record)
    return r?.pid && isAlive(r.pid, r.pidStart) ? r.pid : undefined
  }

  async stop (): Promise<void> {
    const pid = this.pid
    if (pid !== undefined) {
      try { process.kill(pid, 'SIGTERM') } catch {}
      for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50)
    }
    forceCleanup(readRecord(this.record) ?? { dir: this.dir })
    fs.rmSync(this.record, { force: true })
  }
}

/** `port`: a given one (a redis brought back where its clients reconnect), else a free one. */
export async function startRedis (opts: { ownerPid?: number, port?: number } = {}): Promise<RedisServer> {
  cleanupStale()
  const ownerPid = opts.ownerPid ?? process.pid
  const port = opts.port ?? await freePort()
  const name = `redis-${port}`
  const dir = path.join(ROOT, name)
  const record = path.join(RECORDS_DIR, `${name}.json`)
  fs.mkdirSync(RECORDS_DIR, { recursive: true })
  fs.writeFileSync(record, JSON.stringify({ kind: 'redis', name, ownerPid, ownerStart: procStart(ownerPid), dir, port }), { flag: 'wx' })
  spawnReaper(record)
  const server = new PrivateRedis(port, record, dir)
  try {
    fs.mkdirSync(dir, { recursive: true })
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'no',
      '--dir', dir, '--logfile', path.join(dir, 'redis.log')
    ], { detached: true, stdio: 'ignore' })
    child.unref()
    let exited = false
    child.on('exit', () => { exited = true })
    if (child.pid) {
      const r = readRecord(record)
      fs.writeFileSync(record, JSON.stringify({ ...r, pid: child.pid, pidStart: procStart(child.pid) }))
    }
    const deadline = Date.now() + 10_000
    while (!(await redisPing(port))) {
      if (exited || Date.now() > deadline) {
        let log = ''
        try { log = fs.readFileSync(path.join(dir, 'redis.log'), 'utf8').slice(-2000) } catch {}
        throw new Error(`redis-server on 127.0.0.1:${port} did not answer PING${exited ? ' (it exited)' : ''}:\n${log}`)
      }
      await sleep(50)
    }
    return server
  } catch (err) {
    await server.stop()
    throw err
  }
}

/** Re-attach to a redis started by another process (after.ts). */
export function attachRedis (port: number): RedisServer {
  const name = `redis-${port}`
  return new PrivateRedis(port, path.join(RECORDS_DIR, `${name}.json`), path.join(ROOT, name))
}
