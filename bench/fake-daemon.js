'use strict'
/**
 * A minimal stand-in for dockerd, to expose pure proxy overhead: it answers
 * a fixed ~5 KB container list at once (or after --delay ms, for the fleet
 * runs), plus the few other calls the benchmark and the gateway make.
 *
 *   GET  /_ping, HEAD /_ping, GET /version
 *   GET  /containers/json                 fixed list (~5 KB)
 *   GET  /containers/{id}/json            inspect, owner label "bench"
 *   GET  /containers/{id}/stats?stream=1  one JSON object per second, forever
 *   GET  /containers/{id}/export          --export-mib MiB (default 256) of random bytes, chunked
 *   POST /containers/create               201 (so a gateway without a policy shows)
 *
 * Every path may carry a /vX.Y prefix. It listens on a TCP port (the direct
 * path) and on a unix socket (what the proxies use, as in front of
 * /var/run/docker.sock). Run as a child process; it reports through IPC:
 *   -> {type:'ready', port, socket, pid}
 *   <- {cmd:'stats'}  -> {type:'stats', open, total, streams, neverUsed, inspects, lastListQuery}
 *
 * Usage: node bench/fake-daemon.js --port 0 --socket /tmp/x.sock [--delay 50] [--name h1] [--trace 1]
 */
const http = require('node:http')
const fs = require('node:fs')
const { fakeContainerId } = require('./lib/fake-ids')

const args = parseArgs(process.argv.slice(2))
const delay = Number(args.delay ?? 0)
const name = args.name ?? 'fake'
const OWNER = args.owner ?? 'bench'

function parseArgs (argv) {
  const out = {}
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1]
  return out
}

function container (i) {
  const id = fakeContainerId(i)
  return {
    Id: id,
    Names: [`/bench-${name}-${i}`],
    Image: 'dgw-busybox:test',
    ImageID: 'sha256:' + 'a'.repeat(64),
    Command: 'sleep 86400',
    Created: 1700000000 + i,
    Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 9000 + i, Type: 'tcp' }],
    Labels: { 'dgw.bench': '1', 'docker-gateway.owner': OWNER, 'com.example.team': 'platform', 'com.example.service': `svc-${i}` },
    State: 'running',
    Status: 'Up 2 hours',
    HostConfig: { NetworkMode: 'default' },
    NetworkSettings: {
      Networks: {
        bridge: {
          IPAMConfig: null, Links: null, Aliases: null, NetworkID: 'c'.repeat(64), EndpointID: 'd'.repeat(64),
          Gateway: '172.30.9.1', IPAddress: `172.30.9.${10 + i}`, IPPrefixLen: 24, IPv6Gateway: '',
          GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '02:42:ac:1e:09:0a', DriverOpts: null
        }
      }
    },
    Mounts: []
  }
}

// ~5 KB, the size of `docker ps -a` for a handful of containers.
const list = []
for (let i = 0; list.length < 64 && JSON.stringify(list).length < 5000; i++) list.push(container(i))
const LIST = Buffer.from(JSON.stringify(list))
const VERSION = Buffer.from(JSON.stringify({ Version: '20.10.24', ApiVersion: '1.41', MinAPIVersion: '1.12', Os: 'linux', Arch: 'amd64', KernelVersion: '6.1', Components: [] }))

function inspect (id) {
  return Buffer.from(JSON.stringify({
    Id: id.length === 64 ? id : (id + 'b'.repeat(64)).slice(0, 64),
    Name: '/' + id,
    Created: '2024-01-01T00:00:00Z',
    State: { Status: 'running', Running: true, Pid: 1234 },
    Config: { Image: 'dgw-busybox:test', Labels: { 'dgw.bench': '1', 'docker-gateway.owner': OWNER } },
    HostConfig: {},
    NetworkSettings: {}
  }))
}

function statsObject (id, n) {
  return JSON.stringify({
    read: new Date().toISOString(),
    preread: '0001-01-01T00:00:00Z',
    id,
    name: '/' + id,
    num_procs: 0,
    pids_stats: { current: 1 },
    cpu_stats: { cpu_usage: { total_usage: 1000000 * n, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 1e12 + n * 2e9, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: { usage: 524288, limit: 25000000000, stats: { cache: 0, rss: 524288 } },
    networks: { eth0: { rx_bytes: 1000 + n, rx_packets: 10, rx_errors: 0, rx_dropped: 0, tx_bytes: 500, tx_packets: 5, tx_errors: 0, tx_dropped: 0 } },
    blkio_stats: {}
  }) + '\n'
}

// Stats streams: one object per second each, written from one 100 ms ticker
// over ten buckets so 5,000 streams do not all write in the same tick.
const buckets = Array.from({ length: 10 }, () => new Set())
let bucketIndex = 0
let tick = 0
setInterval(() => {
  tick++
  const bucket = buckets[tick % 10]
  for (const s of bucket) {
    s.n++
    s.res.write(statsObject(s.id, s.n))
  }
}, 100).unref()

// Export: the same 1 MiB of random bytes, sent --export-mib times in 64 KiB
// writes that respect backpressure (the daemon streams a tar the same way).
const EXPORT_MIB = Number(args['export-mib'] ?? 256)
const RANDOM = require('node:crypto').randomBytes(1 << 20)
function exportTar (res) {
  res.writeHead(200, { 'content-type': 'application/x-tar', 'api-version': '1.41' })
  let left = EXPORT_MIB * 16
  let off = 0
  const pump = () => {
    while (left > 0) {
      left--
      const chunk = RANDOM.subarray(off, off + 65536)
      off = (off + 65536) % RANDOM.length
      if (!res.write(chunk)) return res.once('drain', pump)
    }
    res.end()
  }
  res.on('close', () => { left = 0 })
  pump()
}

let open = 0
let total = 0
const sockets = new Set()
let inspects = 0
let lastListQuery = ''

const ROUTE = /^(?:\/v\d+\.\d+)?(\/.*)$/

const trace = args.trace === '1'

function handle (req, res) {
  if (trace) process.stderr.write(`${new Date().toISOString()} ${name} ${req.method} ${req.url}\n`)
  const q = req.url.indexOf('?')
  const rawPath = q === -1 ? req.url : req.url.slice(0, q)
  const query = q === -1 ? '' : req.url.slice(q + 1)
  const path = ROUTE.exec(rawPath)?.[1] ?? rawPath
  const json = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length, 'api-version': '1.41', server: 'Docker/20.10.24 (linux)' })
    res.end(body)
  }
  if (path === '/_ping') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 2, 'api-version': '1.41' })
    res.end(req.method === 'HEAD' ? undefined : 'OK')
    return
  }
  if (path === '/version') return json(200, VERSION)
  if (path === '/containers/json') {
    lastListQuery = query
    if (delay > 0) setTimeout(() => json(200, LIST), delay)
    else json(200, LIST)
    return
  }
  if (path === '/containers/create' && req.method === 'POST') {
    req.resume()
    req.on('end', () => json(201, Buffer.from(JSON.stringify({ Id: 'e'.repeat(64), Warnings: [] }))))
    return
  }
  const m = /^\/containers\/([^/]+)\/(json|stats|export)$/.exec(path)
  if (m !== null && m[2] === 'json') { inspects++; return json(200, inspect(m[1])) }
  if (m !== null && m[2] === 'export') return exportTar(res)
  if (m !== null && m[2] === 'stats') {
    const stream = !/(^|&)stream=(0|false)(&|$)/.test(query)
    if (!stream) return json(200, Buffer.from(statsObject(m[1], 1)))
    res.writeHead(200, { 'content-type': 'application/json', 'api-version': '1.41' })
    res.flushHeaders()
    const s = { id: m[1], n: 0, res }
    const bucket = buckets[bucketIndex++ % 10]
    bucket.add(s)
    res.write(statsObject(s.id, 0))
    res.on('close', () => bucket.delete(s))
    return
  }
  json(404, Buffer.from(JSON.stringify({ message: 'page not found' })))
}

function track (server) {
  server.keepAliveTimeout = 120_000
  server.headersTimeout = 130_000
  server.requestTimeout = 0
  server.maxHeadersCount = 0
  server.on('connection', (socket) => {
    open++
    total++
    sockets.add(socket)
    socket.requests = 0
    socket.on('close', () => { open--; sockets.delete(socket) })
  })
  server.on('request', (req) => { req.socket.requests++ })
  return server
}

const tcp = track(http.createServer(handle))
const unix = track(http.createServer(handle))
const socketPath = args.socket

tcp.listen(Number(args.port ?? 0), '127.0.0.1', () => {
  const after = () => {
    const msg = { type: 'ready', port: tcp.address().port, socket: socketPath, pid: process.pid, listBytes: LIST.length }
    if (process.send !== undefined) process.send(msg)
    else console.log(JSON.stringify(msg))
  }
  if (socketPath === undefined) return after()
  try { fs.unlinkSync(socketPath) } catch {}
  unix.listen(socketPath, after)
})

process.on('message', (msg) => {
  if (msg?.cmd === 'stats') {
    let streams = 0
    for (const b of buckets) streams += b.size
    // Open connections that never carried a request: what a client's pool
    // opened and left idle (not keep-alive reuse of a finished call).
    let neverUsed = 0
    for (const sock of sockets) if (sock.requests === 0) neverUsed++
    process.send({ type: 'stats', open, total, streams, neverUsed, inspects, lastListQuery })
  }
})
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0))
