#!/usr/bin/env node
'use strict'
/**
 * `npm run bench`: docker-gateway against the daemon directly and against an
 * HAProxy socket proxy, side by side in one run. See docs/benchmarks.md for what
 * each phase measures and why; `node bench/run.js --help` for the flags.
 *
 * Process layout (2-core machine): the proxy under test (HAProxy or the
 * gateway) is pinned to CPU 0, the load generator (bench/client-worker.js,
 * autocannon) to CPU 1; the upstream (dockerd or bench/fake-daemon.js) is not
 * pinned and shares the machine as a daemon on the same host would. Each
 * proxy gets a fresh process per phase so its peak RSS (VmHWM) is that phase's.
 */
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { SECRET, PRINCIPAL, mint, AUTH } = require('./lib/auth')
const P = require('./lib/proc')
const D = require('./lib/dockerd')
const { startHaproxy } = require('./lib/haproxy')
const { renderMarkdown } = require('./lib/report')
const { fakeStatsPaths } = require('./lib/fake-ids')

const ROOT = path.resolve(__dirname, '..')
const HELP = `usage: node bench/run.js [--quick] [--phases list] [--note text] [--no-pin]
                         [--haproxy-keepalive] [--out file.json] [--md file.md]
  --quick              ~2 minute smoke run (1 repetition of 2 s, 256 MiB export, 1,000 streams)
  --phases a,b         subset of: fake,real,export,streams,fleet (default: all)
  --note text          printed in docs/benchmarks.md (e.g. "machine shared with other work during this run")
  --no-pin             do not pin the proxy and the load generator to separate cores
  --haproxy-keepalive  HAProxy keeps daemon connections alive (default: http-server-close, as deployed)
  --out file.json      results (default bench/results/latest.json, quick: bench/results/quick.json)
  --md file.md         markdown report (default docs/benchmarks.md, quick: bench/results/quick.md)
env: BENCH_DOCKER_HOST=tcp://127.0.0.1:PORT reuses a daemon instead of starting a private one
     BENCH_GW_FLAGS="--max-semi-space-size=4" runs the gateway with these node flags (named in the report's note)
     BENCH_STREAMS_HEAP=1 streams phase: after the RSS while holding is read, a full GC in the gateway and its
       heap after it (per held stream); BENCH_STREAMS_HEAP=/dir also writes a heap snapshot there (the GC
       lowers the disconnect peak that follows, so the default run does neither)`

// ---------------------------------------------------------------- options ---

/** Node flags for the gateway process only (e.g. heap sizing experiments). */
const GW_FLAGS = (process.env.BENCH_GW_FLAGS ?? '').split(' ').filter(Boolean)

function parseArgs (argv) {
  const o = { quick: false, phases: ['fake', 'real', 'cores', 'export', 'streams', 'fleet'], note: '', pin: true, haproxyKeepAlive: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--quick') o.quick = true
    else if (a === '--phases') o.phases = argv[++i].split(',')
    else if (a === '--note') o.note = argv[++i]
    else if (a === '--no-pin') o.pin = false
    else if (a === '--haproxy-keepalive') o.haproxyKeepAlive = true
    else if (a === '--out') o.out = argv[++i]
    else if (a === '--md') o.md = argv[++i]
    else if (a === '--help' || a === '-h') { console.log(HELP); process.exit(0) } else { console.error(`unknown argument ${a}\n${HELP}`); process.exit(2) }
  }
  if (GW_FLAGS.length > 0) o.note = [o.note, `gateway run with node flags ${GW_FLAGS.join(' ')}`].filter(Boolean).join('; ')
  o.out ??= path.join(ROOT, 'bench/results', o.quick ? 'quick.json' : 'latest.json')
  o.md ??= o.quick ? path.join(ROOT, 'bench/results/quick.md') : path.join(ROOT, 'docs/benchmarks.md')
  return o
}

const opts = parseArgs(process.argv.slice(2))
const plan = opts.quick
  ? { reps: 1, seconds: 2, warmup: 1, concurrency: [1, 10, 100], containers: 20, exportMiB: 256, exportReps: 1, streams: 1000, holdSeconds: 4, fleetSeconds: 2 }
  : { reps: 3, seconds: 5, warmup: 2, concurrency: [1, 10, 100], containers: 20, exportMiB: 1024, exportReps: 2, streams: 5000, holdSeconds: 10, fleetSeconds: 5 }
const PROXY_CPU = opts.pin ? 0 : undefined
const CLIENT_CPU = opts.pin ? 1 : undefined

const LIST = '/v1.41/containers/json?all=1'

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'dgwbench-run-'))
const DOCKERD_DIR = '/tmp/dgwbench'

// ------------------------------------------------------------- lifecycle ---

const children = new Set()
let dockerd
let client
let cleaning

function track (handle) {
  children.add(handle.child)
  handle.child.once('exit', () => children.delete(handle.child))
  return handle
}

async function cleanup () {
  if (cleaning !== undefined) return cleaning
  cleaning = (async () => {
    for (const child of [...children]) await P.stop(child, 3000).catch(() => {})
    if (dockerd !== undefined) {
      log('teardown: removing bench containers')
      await D.removeBenchContainers(dockerd.tcp).catch(() => {})
      if (dockerd.private) {
        log('teardown: stopping the private dockerd, removing its bridge and data')
        await D.stopPrivateDockerd(dockerd).catch((err) => log(`teardown: ${err.message}`))
      }
    }
    fs.rmSync(WORK, { recursive: true, force: true })
  })()
  return cleaning
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: tearing down`)
    cleanup().finally(() => process.exit(130))
  })
}

const t0 = Date.now()
function log (msg) {
  const s = ((Date.now() - t0) / 1000).toFixed(0).padStart(4)
  console.log(`[${s}s] ${msg}`)
}

// ------------------------------------------------------------ components ---

async function startFake (name, extra = []) {
  const socket = path.join(WORK, `${name}.sock`)
  const h = track(await P.spawnNode(path.join(__dirname, 'fake-daemon.js'), ['--port', '0', '--socket', socket, '--name', name, ...extra]))
  return { ...h, port: h.ready.port, socket, tcp: `tcp://127.0.0.1:${h.ready.port}`, unix: `unix://${socket}`, listBytes: h.ready.listBytes }
}

async function startGateway (name, gwOpts, { cpus = PROXY_CPU } = {}) {
  const dataDir = path.join(WORK, `gw-${name}`)
  fs.mkdirSync(dataDir, { recursive: true })
  const stdout = path.join(dataDir, 'stdout.log')
  const env = { BENCH_GATEWAY: JSON.stringify({ secret: SECRET, dataDir, auditFile: path.join(dataDir, 'audit.log'), ...gwOpts }) }
  const h = track(await P.spawnNode(path.join(__dirname, 'gateway-server.js'), [], { cpus, env, stdout, execArgv: gwOpts.execArgv ?? GW_FLAGS }))
  return { ...h, port: h.ready.port, features: h.ready.features, dataDir, stdout, auditFile: path.join(dataDir, 'audit.log') }
}

async function startProxy (server, { cpus = PROXY_CPU, threads } = {}) {
  const port = await P.freePort()
  return track(await startHaproxy({ port, server, dir: WORK, keepAlive: opts.haproxyKeepAlive, cpus, threads }))
}

const call = (msg, timeout) => P.ask(client.child, msg, 'result', timeout)

function auditLines (gw) {
  let n = 0
  for (const f of [gw.stdout, gw.auditFile]) {
    try { n += fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.includes('"request"') || l.includes('"decision"')).length } catch {}
  }
  return n
}

/**
 * The audit file is written in 4 KiB batches, so the probes' few lines may
 * still be in memory: count the lines once the gateway has stopped (a clean
 * stop flushes them).
 */
function observeAudit (gw) {
  const n = auditLines(gw)
  return n > 0 ? `on (${n} audit lines written in the phase)` : 'not observed (no audit line written)'
}

/** What the gateway really does, checked from the outside (not what its config claims); audit: observeAudit. */
async function probeFeatures (gw, fake) {
  const base = `http://127.0.0.1:${gw.port}`
  const observed = {}
  const noAuth = await call({ cmd: 'request', url: base + LIST })
  observed.jwt = noAuth.status === 401 ? 'on (401 without a token)' : `NOT ENFORCED (status ${noAuth.status} without a token)`
  const ok = await call({ cmd: 'request', url: base + LIST, headers: AUTH })
  if (ok.status !== 200) throw new Error(`gateway answered ${ok.status} to the bench token: ${ok.body}`)
  // Relayed responses carry the daemon's headers only; the gateway's own
  // answers (the 401 above) carry @fastify/rate-limit's.
  const rlHeader = (res) => Object.keys(res.headers).find((h) => h === 'x-ratelimit-limit' || h === 'ratelimit-limit' || h === 'ratelimit-policy')
  const rl = rlHeader(ok) ?? rlHeader(noAuth)
  observed.rateLimit = rl !== undefined ? `on (${rl}: ${ok.headers[rl] ?? noAuth.headers[rl]})` : 'not observed (no rate-limit headers)'
  if (fake !== undefined) {
    const st = await P.ask(fake.child, { cmd: 'stats' }, 'stats')
    observed.ownership = /docker-gateway\.owner/.test(decodeURIComponent(st.lastListQuery))
      ? 'on (owner label filter injected into the list)'
      : 'not observed (list forwarded without an owner filter)'
    const create = await call({
      cmd: 'request',
      url: base + '/v1.41/containers/create',
      method: 'POST',
      headers: { authorization: `Bearer ${mint('containers:write')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ Image: D.IMAGE, HostConfig: { Privileged: true } })
    })
    observed.policy = create.status === 403 ? 'on (privileged create denied 403)' : `not observed (privileged create -> ${create.status})`
  }
  // /metrics takes an admin token (or its own scrape token), not the bench client's.
  const metrics = await call({ cmd: 'request', url: base + '/metrics', headers: { authorization: `Bearer ${mint('admin')}` } })
  observed.metrics = metrics.status === 200 && metrics.body.includes('# HELP') ? 'on (/metrics answers an admin token)' : `not observed (/metrics -> ${metrics.status})`
  return observed
}

// ------------------------------------------------------------ measurement ---

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const m = v.length >> 1
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2
}

/** One autocannon run against one path, with the proxy's and the upstream's CPU and RSS around it. */
async function cell (p, c, seconds, upstreamPid) {
  const pids = { proxy: p.proxyPid, upstream: upstreamPid, client: client.pid, self: process.pid }
  // The daemon's tree (containerd, shims) and a gateway's workers count with their process.
  const cpuOf = (k, pid) => (k === 'upstream' || (k === 'proxy' && p.tree === true)) ? P.treeCpuMicros(pid) : P.cpuMicros(pid)
  const before = {}
  for (const [k, pid] of Object.entries(pids)) if (pid !== undefined) before[k] = cpuOf(k, pid)
  const machine0 = P.machineBusyMicros()
  const w0 = process.hrtime.bigint()
  const tree = p.proxyPid !== undefined ? (p.tree === true ? P.descendants(p.proxyPid) : [p.proxyPid]) : []
  const sampler = tree.length > 0 ? P.rssSampler(tree, 250) : undefined
  const r = await call({ cmd: 'load', url: p.url, headers: AUTH, connections: c, duration: seconds })
  // The sum of the processes' peaks: an upper bound for a gateway with workers.
  const rss = sampler !== undefined ? [...sampler.stop().values()].reduce((a, b) => a + b, 0) : undefined
  const wall = Number(process.hrtime.bigint() - w0)
  const machine = P.machineBusyMicros() - machine0
  const d = {}
  let ours = 0
  for (const [k, pid] of Object.entries(pids)) {
    if (pid === undefined) continue
    d[k] = cpuOf(k, pid) - before[k]
    ours += d[k]
  }
  const n = r.ok + r.non2xx
  return {
    path: p.name,
    c,
    rps: r.rps,
    p50: r.p50,
    p99: r.p99,
    mean: r.mean,
    ok: r.ok,
    non2xx: r.non2xx,
    errors: r.errors,
    bytesPerReq: r.bytesPerReq,
    proxyCpuUs: d.proxy !== undefined ? d.proxy / n : undefined,
    upstreamCpuUs: d.upstream / n,
    clientCpuUs: d.client / n,
    proxyRssMB: rss !== undefined ? rss / 2 ** 20 : undefined,
    // CPU used on this machine by processes that are not part of the run,
    // as a share of both cores: the noise indicator.
    foreignCpuShare: Math.max(0, (machine - ours) / ((wall / 1000) * os.cpus().length))
  }
}

/** Interleaved repetitions: every concurrency level, every path, path order rotated per level and repetition. */
async function matrix (paths, upstreamPid, label, concurrency = plan.concurrency) {
  for (const p of paths) {
    await call({ cmd: 'load', url: p.url, headers: AUTH, connections: 10, duration: plan.warmup })
  }
  const cells = []
  for (let rep = 0; rep < plan.reps; rep++) {
    for (const [ci, c] of concurrency.entries()) {
      const k = (rep + ci) % paths.length
      const order = [...paths.slice(k), ...paths.slice(0, k)]
      for (const p of order) {
        const r = await cell(p, c, plan.seconds, upstreamPid)
        r.rep = rep
        cells.push(r)
        log(`${label} rep ${rep + 1}/${plan.reps} c=${String(c).padStart(3)} ${p.name.padEnd(8)} ${r.rps.toFixed(0).padStart(6)} req/s p50 ${r.p50.toFixed(3)} ms p99 ${r.p99.toFixed(3)} ms` +
          (r.proxyCpuUs !== undefined ? ` proxy ${r.proxyCpuUs.toFixed(0)} µs/req RSS ${r.proxyRssMB.toFixed(0)} MB` : '') +
          (r.non2xx + r.errors > 0 ? ` !! ${r.non2xx} non-2xx ${r.errors} errors` : ''))
      }
    }
  }
  const summary = {}
  for (const c of concurrency) {
    summary[c] = {}
    for (const p of paths) {
      const mine = cells.filter((x) => x.c === c && x.path === p.name)
      summary[c][p.name] = {
        rps: median(mine.map((x) => x.rps)),
        p50: median(mine.map((x) => x.p50)),
        p99: median(mine.map((x) => x.p99)),
        proxyCpuUs: median(mine.map((x) => x.proxyCpuUs)),
        upstreamCpuUs: median(mine.map((x) => x.upstreamCpuUs)),
        proxyRssMB: Math.max(...mine.map((x) => x.proxyRssMB ?? NaN)),
        bytesPerReq: median(mine.map((x) => x.bytesPerReq)),
        failures: mine.reduce((s, x) => s + x.non2xx + x.errors, 0),
        reps: mine.length
      }
    }
  }
  return { cells, summary, foreignCpuShare: median(cells.map((x) => x.foreignCpuShare)) }
}

// ----------------------------------------------------------------- phases ---

/**
 * The list matrix over the three paths (direct, HAProxy, gateway) to one
 * upstream, then both proxies stopped. The first phase to run probes the
 * gateway's features (the audit ones after the stop: observeAudit).
 */
async function listPhase (results, { label, directPort, upstreamPid, hap, gw, fake }) {
  const probing = results.features === undefined
  if (probing) {
    results.features = { configured: gw.features, observed: await probeFeatures(gw, fake) }
    log('gateway features: ' + Object.entries(results.features.observed).map(([k, v]) => `${k}=${v.split(' ')[0]}`).join(' '))
  }
  const paths = [
    { name: 'direct', url: `http://127.0.0.1:${directPort}${LIST}` },
    { name: 'haproxy', url: `http://127.0.0.1:${hap.port}${LIST}`, proxyPid: hap.pid },
    { name: 'gateway', url: `http://127.0.0.1:${gw.port}${LIST}`, proxyPid: gw.pid }
  ]
  const m = await matrix(paths, upstreamPid, label)
  m.gatewayHwmMB = P.memory(gw.pid).hwm / 2 ** 20
  m.haproxyHwmMB = P.memory(hap.pid).hwm / 2 ** 20
  await P.stop(gw.child)
  await P.stop(hap.child)
  if (probing) results.features.observed.audit = observeAudit(gw)
  return m
}

async function phaseFake (results) {
  const fake = await startFake('fake')
  const hap = await startProxy(fake.socket)
  const gw = await startGateway('fake', { upstream: fake.unix })
  const m = await listPhase(results, { label: 'fake', directPort: fake.port, upstreamPid: fake.pid, hap, gw, fake })
  m.listBytes = fake.listBytes
  await P.stop(fake.child)
  return m
}

async function ensureDockerd () {
  if (dockerd !== undefined) return dockerd
  if (process.env.BENCH_DOCKER_HOST !== undefined && process.env.BENCH_DOCKER_HOST !== '') {
    const tcp = process.env.BENCH_DOCKER_HOST
    if (!(await D.ping(tcp))) throw new Error(`BENCH_DOCKER_HOST ${tcp} does not answer /_ping`)
    dockerd = { tcp, private: false, proxyTarget: tcp, haproxyServer: tcp.replace(/^tcp:\/\//, '') }
    log(`reusing dockerd at ${tcp}`)
  } else {
    const port = await P.freePort()
    log(`starting a private dockerd on 127.0.0.1:${port} (${DOCKERD_DIR}, bridge ${D.BRIDGE})`)
    fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true })
    dockerd = await D.startPrivateDockerd({ dir: DOCKERD_DIR, port, log: path.join(__dirname, 'results', 'dockerd.log') })
    dockerd.proxyTarget = dockerd.unix
    dockerd.haproxyServer = dockerd.socketPath
  }
  const image = await D.ensureImage(dockerd.tcp, WORK)
  await D.removeBenchContainers(dockerd.tcp)
  log(`image ${D.IMAGE} ${image}; creating ${plan.containers} containers labelled ${D.LABEL}`)
  await D.createContainers(dockerd.tcp, plan.containers, PRINCIPAL, 'dgwbench')
  dockerd.version = await D.docker(dockerd.tcp, ['version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}})']).catch(() => 'unknown')
  return dockerd
}

async function phaseReal (results) {
  const d = await ensureDockerd()
  const hap = await startProxy(d.haproxyServer)
  const gw = await startGateway('real', { upstream: d.proxyTarget })
  const directPort = d.tcp.replace(/^tcp:\/\/127\.0\.0\.1:/, '')
  const m = await listPhase(results, { label: 'dockerd', directPort, upstreamPid: d.pid, hap, gw })
  m.containers = plan.containers
  return m
}

/**
 * Every core: the proxies unpinned, HAProxy with one thread per core, the
 * gateway with one worker per core (GATEWAY_WORKERS, src/cluster), the load
 * generator unpinned too, against the real dockerd. The pinned phases compare
 * the proxies core for core; this one is what each does with the machine.
 */
async function phaseCores () {
  const d = await ensureDockerd()
  const cores = os.availableParallelism()
  const unpinnedClient = track(await P.spawnNode(path.join(__dirname, 'client-worker.js'), []))
  unpinnedClient.pid = unpinnedClient.ready.pid
  const pinnedClient = client
  client = unpinnedClient
  try {
    const hap = await startProxy(d.haproxyServer, { cpus: null, threads: cores })
    const gw = await startGateway('cores', { upstream: d.proxyTarget, workers: cores }, { cpus: null })
    // The same gateway with GATEWAY_WORKERS=1, also unpinned: what the workers add on this machine.
    const gw1 = await startGateway('cores-1', { upstream: d.proxyTarget }, { cpus: null })
    const directPort = d.tcp.replace(/^tcp:\/\/127\.0\.0\.1:/, '')
    const paths = [
      { name: 'direct', url: `http://127.0.0.1:${directPort}${LIST}` },
      { name: 'haproxy', url: `http://127.0.0.1:${hap.port}${LIST}`, proxyPid: hap.pid },
      { name: 'gateway', url: `http://127.0.0.1:${gw.port}${LIST}`, proxyPid: gw.pid, tree: true },
      { name: 'gateway1', url: `http://127.0.0.1:${gw1.port}${LIST}`, proxyPid: gw1.pid }
    ]
    const m = await matrix(paths, d.pid, `cores(${cores})`, [10, 100])
    m.cores = cores
    m.haproxyThreads = cores
    m.gatewayWorkers = cores
    await P.stop(gw1.child)
    await P.stop(gw.child)
    await P.stop(hap.child)
    return m
  } finally {
    client = pinnedClient
    await P.stop(unpinnedClient.child)
  }
}

async function phaseExport () {
  const d = await ensureDockerd()
  log(`creating a container holding ${plan.exportMiB} MiB (dd from /dev/urandom)`)
  const id = await D.createBigContainer(d.tcp, plan.exportMiB, PRINCIPAL, 'dgwbench-big')
  const hap = await startProxy(d.haproxyServer)
  const gw = await startGateway('export', { upstream: d.proxyTarget })
  const port = d.tcp.replace(/^tcp:\/\/127\.0\.0\.1:/, '')
  const url = `/v1.41/containers/${id}/export`
  const paths = [
    { name: 'direct', url: `http://127.0.0.1:${port}${url}` },
    { name: 'haproxy', url: `http://127.0.0.1:${hap.port}${url}`, proxyPid: hap.pid },
    { name: 'gateway', url: `http://127.0.0.1:${gw.port}${url}`, proxyPid: gw.pid }
  ]
  const runs = []
  for (let rep = 0; rep < plan.exportReps; rep++) {
    const k = rep % paths.length
    for (const p of [...paths.slice(k), ...paths.slice(0, k)]) {
      const c0 = p.proxyPid !== undefined ? P.cpuMicros(p.proxyPid) : NaN
      const u0 = d.pid !== undefined ? P.treeCpuMicros(d.pid) : NaN
      const r = await call({ cmd: 'download', url: p.url, headers: AUTH })
      const cpu = p.proxyPid !== undefined ? (P.cpuMicros(p.proxyPid) - c0) / 1e6 : NaN
      const up = d.pid !== undefined ? (P.treeCpuMicros(d.pid) - u0) / 1e6 : NaN
      const gib = r.bytes / 2 ** 30
      const row = { path: p.name, rep, status: r.status, bytes: r.bytes, seconds: r.seconds, mibPerSec: r.bytes / 2 ** 20 / r.seconds, proxyCpuSecPerGiB: cpu / gib, upstreamCpuSecPerGiB: up / gib }
      runs.push(row)
      log(`export rep ${rep + 1} ${p.name.padEnd(8)} ${row.mibPerSec.toFixed(0)} MiB/s, ${(r.bytes / 2 ** 20).toFixed(0)} MiB, status ${r.status}` + (p.proxyPid !== undefined ? `, proxy ${row.proxyCpuSecPerGiB.toFixed(2)} CPU-s/GiB` : ''))
    }
  }
  const summary = {}
  for (const p of paths) {
    const mine = runs.filter((r) => r.path === p.name)
    summary[p.name] = {
      mibPerSec: median(mine.map((r) => r.mibPerSec)),
      proxyCpuSecPerGiB: median(mine.map((r) => r.proxyCpuSecPerGiB)),
      upstreamCpuSecPerGiB: median(mine.map((r) => r.upstreamCpuSecPerGiB)),
      peakRssMB: p.proxyPid !== undefined ? P.memory(p.proxyPid).hwm / 2 ** 20 : undefined,
      bytes: mine[0]?.bytes,
      allComplete: mine.every((r) => r.status === 200 && r.bytes === mine[0].bytes)
    }
  }
  await P.stop(gw.child)
  await P.stop(hap.child)
  return { sizeMiB: plan.exportMiB, runs, summary }
}

/**
 * The gateway's defaults would cap this phase, not measure it: the derived
 * limits.maxConnections is at most 4096 (src/limits/server.ts), so the streams
 * gateway gets room for every stream plus this many; and
 * limits.maxConnectionsPerAddress (64) refuses a connection from an address
 * that already holds 64 not yet authenticated, so the client opens its streams
 * in batches smaller than that, each batch answered (authenticated) before the
 * next is dialled.
 */
const STREAMS_SPARE_CONNECTIONS = 1000
const STREAMS_BATCH = 50

async function phaseStreams () {
  const fake = await startFake('streams')
  const n = plan.streams
  const gw = await startGateway('streams', { upstream: fake.unix, maxConnections: n + STREAMS_SPARE_CONNECTIONS })
  const idle = P.memory(gw.pid)
  // BENCH_STREAMS_HEAP: unset, '' or '0' off; '1' the heap after a full GC; a directory: that and a snapshot there.
  const heapOpt = process.env.BENCH_STREAMS_HEAP ?? ''
  const measureHeap = heapOpt !== '' && heapOpt !== '0'
  const idleHeapUsed = measureHeap ? (await P.ask(gw.child, { cmd: 'heap' }, 'heap')).mem.heapUsed : 0
  const paths = fakeStatsPaths()
  log(`opening ${n} stats streams through the gateway`)
  const hold = P.rssSampler([gw.pid], 250)
  const opened = await call({ cmd: 'streams-open', port: gw.port, paths, headers: AUTH, count: n, batch: STREAMS_BATCH })
  log(`streams: ${opened.established} established, ${opened.failed} failed in ${opened.seconds.toFixed(1)} s`)
  const c0 = P.cpuMicros(gw.pid)
  const h0 = Date.now()
  await P.sleep(plan.holdSeconds * 1000)
  const check = await call({ cmd: 'streams-check', windowMs: 2500 })
  const holdCpuShare = (P.cpuMicros(gw.pid) - c0) / ((Date.now() - h0) * 1000)
  const daemonHolding = await P.ask(fake.child, { cmd: 'stats' }, 'stats')
  const holdingRss = hold.stop().get(gw.pid)
  const rssHoldingNow = P.memory(gw.pid).rss
  log(`streams: ${check.delivering}/${check.total} delivering in the last 2.5 s, gateway RSS ${(rssHoldingNow / 2 ** 20).toFixed(0)} MB (max ${(holdingRss / 2 ** 20).toFixed(0)}), daemon sees ${daemonHolding.streams} streams`)
  let heapHolding
  if (measureHeap) {
    const snapshot = heapOpt !== '1' ? path.join(heapOpt, `streams-${n}-${Date.now()}.heapsnapshot`) : undefined
    const hi = await P.ask(gw.child, { cmd: 'heap', snapshot }, 'heap')
    heapHolding = { heapUsedMB: hi.mem.heapUsed / 2 ** 20, externalMB: hi.mem.external / 2 ** 20, arrayBuffersMB: hi.mem.arrayBuffers / 2 ** 20, rssAfterGcMB: P.memory(gw.pid).rss / 2 ** 20, heapKBPerStream: (hi.mem.heapUsed - idleHeapUsed) / 1024 / Math.max(1, opened.established), snapshot, memBefore: hi.memBefore, spacesBefore: hi.spacesBefore, spaces: hi.spaces }
    const mb = (x) => (x / 2 ** 20).toFixed(1)
    log(`streams: before the GC: ${Object.entries(hi.spacesBefore).filter(([, v]) => v.size > 2 ** 20).map(([k, v]) => `${k} ${mb(v.used)}/${mb(v.size)}`).join(', ')} MB (used/size); after: ${Object.entries(hi.spaces).filter(([, v]) => v.size > 2 ** 20).map(([k, v]) => `${k} ${mb(v.used)}/${mb(v.size)}`).join(', ')}`)
    log(`streams: after a full GC: heap used ${heapHolding.heapUsedMB.toFixed(1)} MB (${heapHolding.heapKBPerStream.toFixed(1)} KB per stream over idle), external ${heapHolding.externalMB.toFixed(1)} MB, RSS ${heapHolding.rssAfterGcMB.toFixed(0)} MB${snapshot !== undefined ? `, snapshot ${snapshot}` : ''}`)
  }

  const during = P.rssSampler([gw.pid], 50)
  const d0 = Date.now()
  await call({ cmd: 'streams-close' })
  let daemon = daemonHolding
  let drainedMs
  while (Date.now() - d0 < 15_000) {
    daemon = await P.ask(fake.child, { cmd: 'stats' }, 'stats')
    if (daemon.streams === 0) { drainedMs = Date.now() - d0; break }
    await P.sleep(100)
  }
  await P.sleep(Math.max(0, 3000 - (Date.now() - d0)))
  daemon = await P.ask(fake.child, { cmd: 'stats' }, 'stats')
  const disconnectPeak = during.stop().get(gw.pid)
  const after = P.memory(gw.pid)
  log(`streams: mass disconnect -> daemon streams left ${daemon.streams} (drained in ${drainedMs ?? '>15000'} ms), sockets open at daemon ${daemon.open} (${daemon.neverUsed} never used), gateway RSS ${(after.rss / 2 ** 20).toFixed(0)} MB, peak ${(disconnectPeak / 2 ** 20).toFixed(0)} MB`)
  const res = {
    requested: n,
    established: opened.established,
    failed: opened.failed,
    openErrors: opened.errors,
    openSeconds: opened.seconds,
    openBatch: STREAMS_BATCH,
    maxConnections: n + STREAMS_SPARE_CONNECTIONS,
    delivering: check.delivering,
    minObjectsPerStream: check.minObjects,
    holdSeconds: plan.holdSeconds,
    gatewayCpuShareHolding: holdCpuShare,
    idleRssMB: idle.rss / 2 ** 20,
    holdingRssMB: holdingRss / 2 ** 20,
    disconnectPeakRssMB: disconnectPeak / 2 ** 20,
    afterDisconnectRssMB: after.rss / 2 ** 20,
    hwmMB: after.hwm / 2 ** 20,
    daemonStreamsHolding: daemonHolding.streams,
    daemonStreamsLeft: daemon.streams,
    daemonSocketsLeft: daemon.open,
    // Sockets the gateway opened to the daemon and never used: the idle
    // reconnects undici makes after an aborted stream (nodejs/undici#5845).
    daemonIdleNeverUsed: daemon.neverUsed,
    drainedMs,
    ...(heapHolding !== undefined ? { heapHolding } : {})
  }
  await P.stop(gw.child)
  await P.stop(fake.child)
  return res
}

async function phaseFleet () {
  // Every fake host answers after a delay, so "sum" and "slowest" differ:
  // five 10 ms hosts and one 50 ms host.
  const delays = [10, 50, 10, 10, 10, 10]
  const fakes = []
  for (const [i, delay] of delays.entries()) fakes.push(await startFake(`h${i + 1}`, ['--delay', String(delay)]))
  const sets = [1, 3, 6]
  const out = { available: false, sets: [] }
  for (const n of sets) {
    const hosts = {}
    for (let i = 0; i < n; i++) hosts[`h${i + 1}`] = { url: fakes[i].unix }
    const gw = await startGateway(`fleet${n}`, { hosts })
    const url = `http://127.0.0.1:${gw.port}/hosts/_all/containers/json?all=1`
    const probe = await call({ cmd: 'request', url, headers: AUTH })
    let parsed
    try { parsed = JSON.parse(probe.body) } catch {}
    if (probe.status !== 200 || parsed === undefined) {
      out.probe = { status: probe.status, body: probe.body.slice(0, 200) }
      log(`fleet: /hosts/_all/containers/json -> ${probe.status}: not available yet`)
      await P.stop(gw.child)
      break
    }
    out.available = true
    await call({ cmd: 'load', url, headers: AUTH, connections: 1, duration: 1 })
    const r = await call({ cmd: 'load', url, headers: AUTH, connections: 1, duration: plan.fleetSeconds })
    const r10 = await call({ cmd: 'load', url, headers: AUTH, connections: 10, duration: plan.fleetSeconds })
    const used = delays.slice(0, n)
    // The floor on this machine right now: the slowest host's list, asked directly.
    const slowest = fakes[used.indexOf(Math.max(...used))]
    const floor = await call({ cmd: 'load', url: `http://127.0.0.1:${slowest.port}${LIST}`, headers: AUTH, connections: 1, duration: plan.fleetSeconds })
    const items = Array.isArray(parsed) ? parsed.length : Array.isArray(parsed?.Containers) ? parsed.Containers.length : undefined
    const row = { hosts: n, delays: used, slowestMs: Math.max(...used), sumMs: used.reduce((a, b) => a + b, 0), p50: r.p50, p99: r.p99, slowestDirectP50: floor.p50, rpsC1: r.rps, rpsC10: r10.rps, failures: r.non2xx + r.errors + r10.non2xx + r10.errors, items }
    out.sets.push(row)
    log(`fleet: ${n} hosts (slowest ${row.slowestMs} ms, sum ${row.sumMs} ms) p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms`)
    await P.stop(gw.child)
  }
  for (const f of fakes) await P.stop(f.child)
  return out
}

// ------------------------------------------------------------------- main ---

function sh (cmd, args) {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() } catch { return 'unknown' }
}

function machine () {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8')
  return {
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown',
    cpus: os.cpus().length,
    memGB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    haproxy: sh('haproxy', ['-v']).split('\n')[0],
    autocannon: require('autocannon/package.json').version,
    loadavgStart: os.loadavg()
  }
}

async function main () {
  const dist = path.join(ROOT, 'dist/src/app.js')
  if (!fs.existsSync(dist)) throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` (npm run bench does it)')
  const results = {
    date: new Date().toISOString(),
    mode: opts.quick ? 'quick' : 'full',
    note: opts.note,
    command: 'npm run bench' + (process.argv.length > 2 ? ' -- ' + process.argv.slice(2).map((a) => /^[\w,./=-]+$/.test(a) ? a : JSON.stringify(a)).join(' ') : ''),
    git: { commit: sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']), dirty: sh('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'plugins']) !== '' },
    machine: machine(),
    layout: {
      pinned: opts.pin,
      proxyCpu: PROXY_CPU,
      clientCpu: CLIENT_CPU,
      upstream: 'not pinned',
      haproxyMode: opts.haproxyKeepAlive ? 'http-keep-alive' : 'http-server-close (as Tecnativa/docker-socket-proxy)'
    },
    plan,
    phases: {}
  }
  log(`docker-gateway benchmark, ${results.mode} mode; work dir ${WORK}`)
  client = track(await P.spawnNode(path.join(__dirname, 'client-worker.js'), [], { cpus: CLIENT_CPU }))
  client.pid = client.ready.pid
  const phases = { fake: phaseFake, real: phaseReal, cores: phaseCores, export: phaseExport, streams: phaseStreams, fleet: phaseFleet }
  for (const name of opts.phases) {
    if (phases[name] === undefined) throw new Error(`unknown phase ${name}`)
    const start = Date.now()
    try {
      results.phases[name] = await phases[name](results)
    } catch (err) {
      log(`phase ${name} FAILED: ${err.stack}`)
      results.phases[name] = { error: err.message }
    }
    results.phases[name].seconds = (Date.now() - start) / 1000
  }
  if (dockerd !== undefined) results.machine.dockerd = dockerd.version + (dockerd.private ? ', private daemon, vfs' : `, reused ${dockerd.tcp}`)
  results.machine.loadavgEnd = os.loadavg()
  results.totalSeconds = (Date.now() - t0) / 1000
  fs.mkdirSync(path.dirname(opts.out), { recursive: true })
  fs.writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n')
  fs.writeFileSync(opts.md, renderMarkdown(results, { previous: opts.md }))
  log(`results: ${path.relative(ROOT, opts.out)}, report: ${path.relative(ROOT, opts.md)}`)
  return results
}

main()
  .then(async (results) => {
    await cleanup()
    log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
    const failed = Object.entries(results.phases).filter(([, v]) => v.error !== undefined).map(([k]) => k)
    process.exit(failed.length > 0 ? 1 : 0)
  })
  .catch(async (err) => {
    console.error(err)
    await cleanup()
    process.exit(1)
  })
