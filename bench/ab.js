#!/usr/bin/env node
'use strict'
/**
 * A/B of gateway builds on the fake-daemon path: the current dist/ against
 * other builds (another commit's dist/ copied aside), same harness, same
 * run, interleaved. Experiments are built from a commit, never by patching
 * dist/ text.
 *
 *   node bench/ab.js --variants dist,/tmp/dgw-old/dist \
 *                    [--c 10,100] [--seconds 5] [--rounds 4] [--paired 1] [--streams 0]
 *   (a variant may carry node flags: dist@--max-semi-space-size=32; a variant
 *   with a slash is a build directory, e.g. another commit's dist/ copied aside)
 *
 * BENCH_AUDIT_DEFAULT=1 leaves audit.destination unset (audit lines go to the
 * gateway's stdout, as with `npm start`) instead of the audit file.
 *
 * Every variant runs as its own gateway process pinned to CPU 0 (only the one
 * under load is busy); autocannon runs on CPU 1. Reports median CPU µs per
 * request (from /proc, the robust figure on a shared machine) and req/s, and
 * the change against the first variant.
 *
 * --paired 1 loads all variants AT THE SAME TIME (one load generator each,
 * all on CPU 1; the gateways share CPU 0), so every variant sees the same
 * foreign load in every round; the figure is then the median over rounds of
 * each variant's CPU per request relative to the first variant's in that
 * round. On a machine shared with other work this is the figure to trust.
 *
 * --download 1 --path /v1.41/containers/bench-fake-0/export compares streamed
 * downloads instead (the fake daemon's 256 MiB export): CPU-s/GiB and MiB/s.
 * The container must be the bench principal's own (a name or full id of the
 * fake daemon's list): a short reference is resolved among the caller's own
 * containers only, so any other is a 404, and a download that is not a 200
 * with a body stops the run instead of reporting an empty one.
 *
 * With --streams N it also opens N
 * stats streams through each variant, disconnects them all and counts the
 * sockets the daemon still has open 3 s later.
 */
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { SECRET, AUTH } = require('./lib/auth')
const P = require('./lib/proc')
const { fakeStatsPaths } = require('./lib/fake-ids')


function parseArgs (argv) {
  const o = { variants: ['dist'], c: [10, 100], seconds: 5, rounds: 4, streams: 0, paired: 0, download: 0, path: '/v1.41/containers/json?all=1' }
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '')
    const v = argv[++i]
    if (k === 'variants') o.variants = v.split(',')
    else if (k === 'c') o.c = v.split(',').map(Number)
    else if (k === 'path') o.path = v
    else o[k] = Number(v)
  }
  return o
}

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b)
  return v.length === 0 ? NaN : v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}

async function main () {
  const o = parseArgs(process.argv.slice(2))
  const root = path.resolve(__dirname, '..')
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dgwbench-ab-'))
  const kids = []
  try {
    const client = await P.spawnNode(path.join(__dirname, 'client-worker.js'), [], { cpus: 1 })
    kids.push(client.child)
    const call = (msg) => P.ask(client.child, msg, 'result')
    const sock = path.join(work, 'fake.sock')
    const fake = await P.spawnNode(path.join(__dirname, 'fake-daemon.js'), ['--port', '0', '--socket', sock])
    kids.push(fake.child)
    const gws = []
    for (const v of o.variants) {
      // "name@--flag@--flag": node flags for that variant's process.
      const [build, ...flags] = v.split('@')
      // A variant with a slash is a build directory (e.g. another commit's dist/).
      if (build !== 'dist' && !build.includes('/')) throw new Error(`variant ${build}: give "dist" or a build directory (a path with a slash)`)
      const dist = build === 'dist' ? path.join(root, 'dist') : path.resolve(build)
      const dataDir = path.join(work, v.replace(/[^\w+.-]/g, '_'))
      fs.mkdirSync(dataDir)
      const gw = await P.spawnNode(path.join(__dirname, 'gateway-server.js'), [], {
        cpus: 0,
        execArgv: flags,
        stdout: path.join(dataDir, 'stdout.log'),
        env: { BENCH_GATEWAY: JSON.stringify({ upstream: `unix://${sock}`, secret: SECRET, dataDir, auditFile: process.env.BENCH_AUDIT_DEFAULT === '1' ? undefined : path.join(dataDir, 'audit.log'), dist }) }
      })
      kids.push(gw.child)
      gws.push({ name: v, pid: gw.ready.pid, port: gw.ready.port, child: gw.child })
      await call({ cmd: 'load', url: `http://127.0.0.1:${gw.ready.port}${o.path}`, headers: AUTH, connections: 10, duration: 2 })
    }
    const cells = []
    if (o.download) {
      const runs = []
      for (let round = 0; round < o.rounds; round++) {
        for (const g of round % 2 === 0 ? gws : [...gws].reverse()) {
          const c0 = P.cpuMicros(g.pid)
          const r = await call({ cmd: 'download', url: `http://127.0.0.1:${g.port}${o.path}`, headers: AUTH })
          if (r.status !== 200 || r.bytes === 0) throw new Error(`${g.name}: ${o.path} answered ${r.status} with ${r.bytes} bytes`)
          const gib = r.bytes / 2 ** 30
          runs.push({ v: g.name, cpu: (P.cpuMicros(g.pid) - c0) / 1e6 / gib, mibs: r.bytes / 2 ** 20 / r.seconds })
          console.log(`round ${round + 1} ${g.name.padEnd(28)} ${(r.bytes / 2 ** 20).toFixed(0)} MiB at ${(r.bytes / 2 ** 20 / r.seconds).toFixed(0)} MiB/s, ${runs[runs.length - 1].cpu.toFixed(2)} CPU-s/GiB`)
        }
      }
      const base = median(runs.filter((x) => x.v === gws[0].name).map((x) => x.cpu))
      console.log('\nmedians:')
      for (const g of gws) {
        const mine = runs.filter((x) => x.v === g.name)
        const cpu = median(mine.map((x) => x.cpu))
        console.log(`${g.name.padEnd(28)} ${cpu.toFixed(2)} CPU-s/GiB (${((cpu / base - 1) * 100).toFixed(1)} %), ${median(mine.map((x) => x.mibs)).toFixed(0)} MiB/s, VmHWM ${(P.memory(g.pid).hwm / 2 ** 20).toFixed(0)} MB`)
      }
      o.rounds = 0
      o.c = []
    }
    if (o.paired) {
      const loaders = []
      for (let i = 0; i < gws.length; i++) {
        const w = await P.spawnNode(path.join(__dirname, 'client-worker.js'), [], { cpus: 1 })
        kids.push(w.child)
        loaders.push(w)
      }
      const rel = new Map(gws.map((g) => [g.name, []]))
      for (let round = 0; round < o.rounds; round++) {
        for (const c of o.c) {
          const c0 = gws.map((g) => P.cpuMicros(g.pid))
          const rs = await Promise.all(gws.map((g, i) => P.ask(loaders[i].child, { cmd: 'load', url: `http://127.0.0.1:${g.port}${o.path}`, headers: AUTH, connections: c, duration: o.seconds }, 'result')))
          const cpus = gws.map((g, i) => (P.cpuMicros(g.pid) - c0[i]) / (rs[i].ok + rs[i].non2xx))
          gws.forEach((g, i) => {
            cells.push({ v: g.name, c, cpu: cpus[i], rps: rs[i].rps, p50: rs[i].p50, rel: cpus[i] / cpus[0] })
            console.log(`round ${round + 1} c=${c} ${g.name.padEnd(40)} ${rs[i].rps.toFixed(0).padStart(6)} req/s ${cpus[i].toFixed(0).padStart(5)} µs/req  ×${(cpus[i] / cpus[0]).toFixed(3)} of ${gws[0].name}${rs[i].non2xx + rs[i].errors > 0 ? ' !! failures' : ''}`)
          })
        }
      }
      console.log(`\npaired medians (CPU per request relative to ${gws[0].name} in the same round):`)
      for (const c of o.c) {
        for (const g of gws) {
          const mine = cells.filter((x) => x.v === g.name && x.c === c)
          const r = median(mine.map((x) => x.rel).filter(Number.isFinite))
          console.log(`c=${String(c).padStart(3)} ${g.name.padEnd(40)} ${median(mine.map((x) => x.cpu)).toFixed(0).padStart(5)} µs/req  ${((r - 1) * 100).toFixed(1).padStart(6)} % CPU/request (rounds: ${mine.map((x) => ((x.rel - 1) * 100).toFixed(0)).join(', ')})`)
        }
      }
    }
    for (let round = 0; round < (o.paired ? 0 : o.rounds); round++) {
      for (const [ci, c] of o.c.entries()) {
        const k = (round + ci) % gws.length
        for (const g of [...gws.slice(k), ...gws.slice(0, k)]) {
          const c0 = P.cpuMicros(g.pid)
          const r = await call({ cmd: 'load', url: `http://127.0.0.1:${g.port}${o.path}`, headers: AUTH, connections: c, duration: o.seconds })
          const cpu = (P.cpuMicros(g.pid) - c0) / (r.ok + r.non2xx)
          cells.push({ v: g.name, c, cpu, rps: r.rps, p50: r.p50, failed: r.non2xx + r.errors })
          console.log(`round ${round + 1} c=${c} ${g.name.padEnd(28)} ${r.rps.toFixed(0).padStart(6)} req/s ${cpu.toFixed(0).padStart(5)} µs/req p50 ${r.p50.toFixed(3)} ms${r.non2xx + r.errors > 0 ? ` !! ${r.non2xx + r.errors} failed` : ''}`)
        }
      }
    }
    if (!o.paired) console.log('\nmedians (change vs ' + gws[0].name + '):')
    for (const c of (o.paired ? [] : o.c)) {
      const base = cells.filter((x) => x.v === gws[0].name && x.c === c)
      const bc = median(base.map((x) => x.cpu))
      const br = median(base.map((x) => x.rps))
      for (const g of gws) {
        const mine = cells.filter((x) => x.v === g.name && x.c === c)
        const cpu = median(mine.map((x) => x.cpu))
        const rps = median(mine.map((x) => x.rps))
        console.log(`c=${String(c).padStart(3)} ${g.name.padEnd(28)} ${cpu.toFixed(0).padStart(5)} µs/req (${((cpu / bc - 1) * 100).toFixed(1).padStart(6)} %)  ${rps.toFixed(0).padStart(6)} req/s (${((rps / br - 1) * 100).toFixed(1).padStart(6)} %)  p50 ${median(mine.map((x) => x.p50)).toFixed(3)} ms`)
      }
    }
    if (o.streams > 0) {
      console.log(`\n${o.streams} stats streams per variant, then a mass disconnect:`)
      for (const g of gws) {
        const before = await P.ask(fake.child, { cmd: 'stats' }, 'stats')
        const opened = await call({ cmd: 'streams-open', port: g.port, paths: fakeStatsPaths(), headers: AUTH, count: o.streams })
        await P.sleep(2000)
        const holding = P.memory(g.pid).rss
        await call({ cmd: 'streams-close' })
        const t0 = Date.now()
        let after = before
        while (Date.now() - t0 < 20_000) {
          after = await P.ask(fake.child, { cmd: 'stats' }, 'stats')
          if (after.streams === 0) break
          await P.sleep(200)
        }
        await P.sleep(3000)
        after = await P.ask(fake.child, { cmd: 'stats' }, 'stats')
        console.log(`${g.name.padEnd(28)} established ${opened.established}, RSS holding ${(holding / 2 ** 20).toFixed(0)} MB; streams drained in ${Date.now() - t0 - 3000} ms; then daemon sockets ${after.open} (were ${before.open}), never used ${after.neverUsed} (were ${before.neverUsed}), inspects ${after.inspects - before.inspects}, RSS ${(P.memory(g.pid).rss / 2 ** 20).toFixed(0)} MB`)
      }
    }
  } finally {
    for (const k of kids) await P.stop(k).catch(() => {})
    fs.rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err) => { console.error(err); process.exit(1) })
