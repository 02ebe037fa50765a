#!/usr/bin/env node
'use strict'
/**
 * CPU profile of the gateway on the fake-daemon path (pure proxy overhead):
 * bench/gateway-server.js with V8's CPU profiler (the one `node --cpu-prof`
 * uses, started over node:inspector for the measured window only, after
 * warm-up), pinned to CPU 0, driven by
 * autocannon from bench/client-worker.js on CPU 1, then a self-time summary
 * by function and by package.
 *
 *   node bench/profile.js [--seconds 10] [--c 10] [--dist DIR] [--top 30] [--path /v1.41/containers/json?all=1]
 *   node bench/profile.js --download 4 --path /v1.41/containers/bench-fake-0/export   (4 sequential 256 MiB exports)
 *   node bench/profile.js --upstream tcp://127.0.0.1:23750   (a real daemon instead of the fake one)
 *
 * --dist runs another build of the gateway (a prototype under bench/results/)
 * with the same harness. The raw .cpuprofile is kept in bench/results/profiles/
 * (open it in Chrome DevTools or speedscope).
 */
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { SECRET, AUTH } = require('./lib/auth')
const P = require('./lib/proc')

function parseArgs (argv) {
  const o = { seconds: 10, c: 10, top: 30, path: '/v1.41/containers/json?all=1', dist: undefined, label: 'dist', download: 0 }
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '')
    o[k] = ['seconds', 'c', 'top', 'download'].includes(k) ? Number(argv[++i]) : argv[++i]
  }
  return o
}

/** Self time per node of a V8 .cpuprofile, in microseconds. */
function selfTimes (profile) {
  const self = new Map()
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const { samples, timeDeltas } = profile
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt)
  }
  return { self, byId }
}

function pkgOf (url) {
  if (url === '' || url === undefined) return '(native/v8)'
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0]
  const nm = url.lastIndexOf('node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + 13).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  const m = /\/(dist\/[^?]*|bench\/[^?]*)$/.exec(url)
  return m !== null ? m[1].replace(/^.*\/dist\//, 'dist/') : url
}

function summarize (file, top) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'))
  const { self, byId } = selfTimes(profile)
  let total = 0
  const fn = new Map()
  const pkg = new Map()
  let idle = 0
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame
    if (cf.functionName === '(idle)') { idle += us; continue }
    total += us
    const key = `${cf.functionName || '(anonymous)'} ${pkgOf(cf.url)}:${cf.lineNumber + 1}`
    fn.set(key, (fn.get(key) ?? 0) + us)
    const p = cf.url === '' ? (cf.functionName.startsWith('(') ? cf.functionName : '(native/v8)') : pkgOf(cf.url)
    pkg.set(p, (pkg.get(p) ?? 0) + us)
  }
  const rows = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${(100 * v / total).toFixed(1).padStart(5)} %  ${k}`)
  return { total, idle, functions: rows(fn), packages: rows(pkg) }
}

async function main () {
  const o = parseArgs(process.argv.slice(2))
  const root = path.resolve(__dirname, '..')
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dgwbench-prof-'))
  const profDir = path.join(__dirname, 'results/profiles')
  fs.mkdirSync(profDir, { recursive: true })
  const kids = []
  try {
    const client = await P.spawnNode(path.join(__dirname, 'client-worker.js'), [], { cpus: 1 })
    kids.push(client.child)
    let upstream = o.upstream
    if (upstream === undefined) {
      const sock = path.join(work, 'fake.sock')
      const fake = await P.spawnNode(path.join(__dirname, 'fake-daemon.js'), ['--port', '0', '--socket', sock])
      kids.push(fake.child)
      upstream = `unix://${sock}`
    }
    const gw = await P.spawnNode(path.join(__dirname, 'gateway-server.js'), [], {
      cpus: 0,
      stdout: path.join(work, 'gw.log'),
      env: { BENCH_GATEWAY: JSON.stringify({ upstream, secret: SECRET, dataDir: work, auditFile: path.join(work, 'audit.log'), dist: o.dist !== undefined ? path.resolve(o.dist) : path.join(root, 'dist') }) }
    })
    kids.push(gw.child)
    const url = `http://127.0.0.1:${gw.ready.port}${o.path}`
    if (o.download > 0) {
      await P.ask(client.child, { cmd: 'download', url, headers: AUTH }, 'result')
      const named = path.join(profDir, `gateway-${o.label}-download-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`)
      await P.ask(gw.child, { cmd: 'profile-start' }, 'profiling')
      const c0 = P.cpuMicros(gw.ready.pid)
      let bytes = 0
      let seconds = 0
      for (let i = 0; i < o.download; i++) {
        const r = await P.ask(client.child, { cmd: 'download', url, headers: AUTH }, 'result')
        // A container not the bench principal's is a 404: say so instead of profiling nothing.
        if (r.status !== 200 || r.bytes === 0) throw new Error(`${o.path} answered ${r.status} with ${r.bytes} bytes`)
        bytes += r.bytes
        seconds += r.seconds
      }
      const cpu = P.cpuMicros(gw.ready.pid) - c0
      await P.ask(gw.child, { cmd: 'profile-stop', file: named }, 'profiled')
      const hwm = P.memory(gw.ready.pid).hwm
      await P.stop(gw.child)
      const s = summarize(named, o.top)
      console.log(`${o.label}: ${o.download} downloads, ${(bytes / 2 ** 20 / seconds).toFixed(0)} MiB/s, ${(cpu / 1e6 / (bytes / 2 ** 30)).toFixed(2)} CPU-s/GiB (under the profiler), VmHWM ${(hwm / 2 ** 20).toFixed(0)} MB`)
      console.log(`profile: ${path.relative(root, named)}; busy ${(s.total / 1e6).toFixed(2)} s, idle ${(s.idle / 1e6).toFixed(2)} s\n\nself time by package:\n${s.packages.join('\n')}\n\nself time by function:\n${s.functions.join('\n')}`)
      return
    }
    await P.ask(client.child, { cmd: 'load', url, headers: AUTH, connections: o.c, duration: 2 }, 'result')
    const named = path.join(profDir, `gateway-${o.label}-c${o.c}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`)
    await P.ask(gw.child, { cmd: 'profile-start' }, 'profiling')
    const c0 = P.cpuMicros(gw.ready.pid)
    const r = await P.ask(client.child, { cmd: 'load', url, headers: AUTH, connections: o.c, duration: o.seconds }, 'result')
    const cpu = P.cpuMicros(gw.ready.pid) - c0
    await P.ask(gw.child, { cmd: 'profile-stop', file: named }, 'profiled')
    await P.stop(gw.child)
    const s = summarize(named, o.top)
    console.log(`${o.label}: ${r.rps.toFixed(0)} req/s at c=${o.c}, ${(cpu / (r.ok + r.non2xx)).toFixed(0)} µs CPU/request (under the profiler), p50 ${r.p50.toFixed(3)} ms, ${r.non2xx + r.errors} failed`)
    console.log(`profile: ${path.relative(root, named)}; busy ${(s.total / 1e6).toFixed(2)} s, idle ${(s.idle / 1e6).toFixed(2)} s; shares below are of busy time\n\nself time by package:\n${s.packages.join('\n')}\n\nself time by function:\n${s.functions.join('\n')}`)
  } finally {
    for (const k of kids) await P.stop(k).catch(() => {})
    fs.rmSync(work, { recursive: true, force: true })
  }
}

if (require.main === module) main().catch((err) => { console.error(err); process.exit(1) })
module.exports = { summarize }
