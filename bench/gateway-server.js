'use strict'
/**
 * The gateway under test, in its own process so its CPU and memory can be
 * read from /proc without the load generator's. It loads the compiled
 * gateway from dist/ (run `npx tsc -p tsconfig.json` first) and turns on every
 * production feature this build's config schema knows about: JWT (always),
 * rate limit (with a limit that never triggers), create policy, ownership,
 * audit logging (the pino line per request, to a file), metrics. Features
 * the build does not have yet are reported as absent, not faked.
 *
 * Input: env BENCH_GATEWAY = JSON {
 *   upstream?: 'unix:///..' | 'tcp://..', hosts?: {name: {url}}, secret: string,
 *   auditFile: string, dataDir: string, rateLimitMax?: number, dist?: string,
 *   maxConnections?: number (limits.maxConnections, for the streams phase) }
 * IPC out: {type:'ready', port, pid, features, configKeys}
 * IPC in:  {cmd:'usage'} -> {type:'usage', cpu, mem}
 *          {cmd:'profile-start'} / {cmd:'profile-stop', file} -> {type:'profiled', file}
 *          (the V8 CPU profiler that `node --cpu-prof` uses, through node:inspector,
 *          so the profile covers the measured window only, not boot and warm-up)
 *          {cmd:'heap', snapshot?: file} -> {type:'heap', mem, heap, spaces, memBefore, spacesBefore, file?}:
 *          process.memoryUsage() and the V8 heap spaces before and after a full GC
 *          (HeapProfiler.collectGarbage); with `snapshot`, a heap snapshot written there
 */
const path = require('node:path')
const fs = require('node:fs')

const opts = JSON.parse(process.env.BENCH_GATEWAY ?? '{}')
const dist = opts.dist ?? path.resolve(__dirname, '..', 'dist')

function send (msg) {
  if (process.send !== undefined) process.send(msg)
  else console.error(JSON.stringify(msg))
}

function fatal (err) {
  send({ type: 'fatal', message: err?.stack ?? String(err) })
  setTimeout(() => process.exit(1), 100)
}

/** The property schemas of an object schema (TypeBox keeps JSON Schema shape). */
function props (schema) {
  return schema !== undefined && schema !== null && typeof schema.properties === 'object' ? schema.properties : {}
}

function typeOf (schema) {
  if (schema === undefined) return undefined
  if (schema.type !== undefined) return schema.type
  const alt = schema.anyOf ?? schema.oneOf
  if (Array.isArray(alt)) {
    const types = alt.map(typeOf)
    if (types.includes('string')) return 'string'
    return types[0]
  }
  return undefined
}

/**
 * For each feature the schema offers, the config fragment that turns it on
 * in its production form. Keys are guessed from the issue texts (rateLimit.max
 * and rateLimit.timeWindow, policy, ownership.enabled, an audit destination);
 * a fragment the schema rejects is dropped and reported.
 */
function featureFragments (schemaProps) {
  const out = []
  const rl = schemaProps.rateLimit
  if (rl !== undefined) {
    const sub = props(rl)
    const frag = {}
    if (sub.enabled !== undefined) frag.enabled = true
    if (sub.max !== undefined) frag.max = opts.rateLimitMax ?? 1_000_000_000
    if (sub.timeWindow !== undefined) frag.timeWindow = typeOf(sub.timeWindow) === 'string' ? '1 minute' : 60_000
    out.push({ feature: 'rateLimit', key: 'rateLimit', value: frag, detail: `max ${frag.max ?? '(default)'} per ${frag.timeWindow ?? '(default window)'}` })
  }
  if (schemaProps.policy !== undefined) {
    const sub = props(schemaProps.policy)
    out.push({ feature: 'policy', key: 'policy', value: sub.enabled !== undefined ? { enabled: true } : {}, detail: 'default (secure) create policy' })
  }
  if (schemaProps.ownership !== undefined) {
    const sub = props(schemaProps.ownership)
    out.push({ feature: 'ownership', key: 'ownership', value: sub.enabled !== undefined ? { enabled: true } : {}, detail: 'owner label filter / per-container owner check' })
  }
  if (schemaProps.metrics !== undefined) {
    const sub = props(schemaProps.metrics)
    const value = typeOf(schemaProps.metrics) === 'object' ? (sub.enabled !== undefined ? { enabled: true } : {}) : (typeOf(schemaProps.metrics) === 'boolean' ? true : 'on')
    out.push({ feature: 'metrics', key: 'metrics', value, detail: 'prom-client registry updated per request' })
  }
  for (const key of Object.keys(schemaProps)) {
    if (!/audit/i.test(key)) continue
    const s = schemaProps[key]
    const t = typeOf(s)
    let value
    if (t === 'string') value = opts.auditFile
    else if (t === 'boolean') value = true
    else if (t === 'object') {
      value = {}
      for (const [k, v] of Object.entries(props(s))) {
        if (k === 'enabled') value[k] = true
        else if (/file|dest|path/i.test(k) && typeOf(v) === 'string') value[k] = opts.auditFile
      }
    }
    if (value !== undefined) out.push({ feature: 'audit', key, value, detail: `audit destination ${key} -> ${opts.auditFile}` })
  }
  return out
}

async function main () {
  const { buildApp } = require(path.join(dist, 'src/app'))
  const { loadConfig, ENV_KEYS } = require(path.join(dist, 'src/config/load'))
  const { ConfigSchema } = require(path.join(dist, 'src/config/schema'))
  const schemaProps = props(ConfigSchema)

  const base = {
    listen: '127.0.0.1:0',
    // Plain HTTP: the other two paths are plain HTTP too; TLS cost is not the
    // proxy's design but OpenSSL's, and would dominate every ratio.
    tls: 'off',
    logLevel: 'info',
    dataDir: opts.dataDir
  }
  // The bench drives ONE principal through 100 connections and 5,000 streams:
  // the per-principal caps (limits.*, issue 10) protect tenants from each
  // other and would turn that load into 429s, measuring the cap, not the path.
  if (schemaProps.limits !== undefined) base.limits = { connectionsPerPrincipal: 1_000_000, streamsPerPrincipal: 100_000 }
  // The streams phase holds more client connections (one per stream) than the
  // derived default total cap (a third of the open-file limit, at most 4096:
  // src/limits/server.ts), which would measure the cap; room for N streams
  // plus the probes. The product default stays as it is.
  if (base.limits !== undefined && opts.maxConnections !== undefined) base.limits.maxConnections = opts.maxConnections
  if (opts.hosts !== undefined) {
    base.hosts = opts.hosts
    base.defaultHost = Object.keys(opts.hosts)[0]
  } else {
    base.upstream = opts.upstream
  }
  const env = { }
  const envNames = new Set(Object.keys(ENV_KEYS ?? {}))
  // Key material: a later build may read the secret from config/env instead of buildApp's option.
  if (envNames.has('GATEWAY_JWT_SECRET')) env.GATEWAY_JWT_SECRET = opts.secret
  if (schemaProps.jwtSecret !== undefined) base.jwtSecret = opts.secret

  const features = {
    jwt: { state: 'on', detail: 'HS256 bearer token verified on every call' },
    audit: { state: 'on', detail: 'one pino line per request (plugins/audit.ts) to the process stdout, a file' }
  }
  let fragments = featureFragments(schemaProps)
  const configFile = path.join(opts.dataDir, 'gateway-config.json')
  let config
  for (let attempt = 0; ; attempt++) {
    const data = { ...base }
    for (const f of fragments) data[f.key] = f.value
    fs.writeFileSync(configFile, JSON.stringify(data, null, 2))
    try {
      config = loadConfig({ GATEWAY_CONFIG: configFile, ...env })
      break
    } catch (err) {
      const bad = fragments.find((f) => err.message.includes(`${f.key}`))
      if (bad === undefined || attempt > 8) throw err
      features[bad.feature] = { state: 'off', detail: `config rejected: ${err.message}` }
      fragments = fragments.filter((f) => f !== bad)
    }
  }
  for (const f of fragments) features[f.feature] = { state: 'on', detail: f.detail }
  for (const name of ['rateLimit', 'policy', 'ownership', 'metrics']) {
    if (features[name] === undefined) features[name] = { state: 'absent', detail: 'this build has no such config key' }
  }

  // --workers N (the 'cores' phase): this script as the primary of N workers running it too,
  // through the gateway's own cluster code (src/cluster), as `docker-gateway start` runs them.
  const cluster = require('node:cluster')
  if (opts.workers > 1 && cluster.isPrimary) {
    const { runPrimary } = require(path.join(dist, 'src/cluster/primary'))
    const first = await runPrimary({ count: opts.workers, prepared: [], adminToken: [], err: () => {}, deadlineMs: 20_000, env: process.env })
    send({ type: 'ready', port: Number(new URL(first.url).port), pid: process.pid, features, configKeys: Object.keys(schemaProps), workers: opts.workers })
    return
  }
  let worker
  if (cluster.isWorker) {
    const { WorkerLink } = require(path.join(dist, 'src/cluster/worker-link'))
    worker = { link: new WorkerLink(), leader: process.env.GATEWAY_WORKER_ROLE === 'leader', id: cluster.worker.id }
  }
  const app = await buildApp({ config, jwtSecret: opts.secret, ...(worker !== undefined ? { cluster: worker } : {}) })
  if (typeof app.hasPlugin === 'function') {
    features.rateLimit.plugin = app.hasPlugin('@fastify/rate-limit')
  }
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = app.server.address().port

  let session
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, res) => err ? reject(err) : resolve(res)))
  process.on('message', async (msg) => {
    try {
      if (msg?.cmd === 'usage') send({ type: 'usage', cpu: process.cpuUsage(), mem: process.memoryUsage() })
      else if (msg?.cmd === 'profile-start') {
        const inspector = require('node:inspector')
        session = new inspector.Session()
        session.connect()
        await post('Profiler.enable')
        await post('Profiler.setSamplingInterval', { interval: msg.intervalUs ?? 200 })
        await post('Profiler.start')
        send({ type: 'profiling' })
      } else if (msg?.cmd === 'heap') {
        const inspector = require('node:inspector')
        const s = new inspector.Session()
        s.connect()
        const gc = () => new Promise((resolve, reject) => s.post('HeapProfiler.collectGarbage', (err) => err ? reject(err) : resolve()))
        const spaces = () => Object.fromEntries(require('node:v8').getHeapSpaceStatistics().map((x) => [x.space_name, { size: x.space_size, used: x.space_used_size }]))
        const memBefore = process.memoryUsage()
        const spacesBefore = spaces()
        await gc()
        await gc()
        s.disconnect()
        const mem = process.memoryUsage()
        const heap = require('node:v8').getHeapStatistics()
        if (msg.snapshot !== undefined) require('node:v8').writeHeapSnapshot(msg.snapshot)
        send({ type: 'heap', mem, heap, spaces: spaces(), memBefore, spacesBefore, file: msg.snapshot })
      } else if (msg?.cmd === 'profile-stop') {
        const { profile } = await post('Profiler.stop')
        fs.writeFileSync(msg.file, JSON.stringify(profile))
        session.disconnect()
        send({ type: 'profiled', file: msg.file })
      }
    } catch (err) {
      send({ type: 'error', message: err.stack })
    }
  })
  let closing = false
  const close = async () => {
    if (closing) return
    closing = true
    const t = setTimeout(() => process.exit(0), 3000)
    try { await app.close() } catch {}
    clearTimeout(t)
    // process.exit (not a signal death) so --cpu-prof writes its profile.
    process.exit(0)
  }
  process.on('SIGTERM', close)
  process.on('SIGINT', close)
  process.on('disconnect', close)
  if (worker !== undefined) {
    worker.link.on('shutdown', close)
    worker.link.send({ dgw: 'listening', url: `http://127.0.0.1:${port}`, banner: [], prepared: [] })
    return
  }
  send({ type: 'ready', port, pid: process.pid, features, configKeys: Object.keys(schemaProps) })
}

main().catch(fatal)
