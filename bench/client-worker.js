'use strict'
/**
 * The client side of every measurement, in its own process (pinned to its
 * own core by run.js) so the load generator's CPU never counts as the
 * proxy's. Driven over IPC:
 *
 *   {cmd:'load', url, headers, connections, duration}     autocannon run
 *   {cmd:'download', url, headers}                         one GET, body counted and dropped
 *   {cmd:'request', url, method, headers, body}            one call, for probes
 *   {cmd:'streams-open', port, paths, headers, count, batch}  N raw HTTP streams held open, opened `batch` at a time
 *   {cmd:'streams-check', windowMs}                        how many delivered recently
 *   {cmd:'streams-close'}                                  destroy all at once
 *
 * Latency: autocannon's own histogram has 1 ms resolution, too coarse for
 * p50 at c=1 (~0.3 ms); every response time (float ms) is collected from its
 * 'response' event instead.
 */
const autocannon = require('autocannon')
const http = require('node:http')
const net = require('node:net')

function send (msg) { process.send(msg) }

function percentile (sorted, p) {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

async function load ({ url, headers, connections, duration }) {
  let lat = new Float64Array(1 << 16)
  let n = 0
  const started = process.hrtime.bigint()
  const result = await new Promise((resolve, reject) => {
    const inst = autocannon({ url, headers, connections, duration, pipelining: 1, timeout: 30 }, (err, res) => err ? reject(err) : resolve(res))
    inst.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode > 299) return
      if (n === lat.length) {
        const next = new Float64Array(lat.length * 2)
        next.set(lat)
        lat = next
      }
      lat[n++] = responseTime
    })
  })
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  const sorted = lat.subarray(0, n).sort()
  let sum = 0
  for (let i = 0; i < n; i++) sum += sorted[i]
  const ok = result['2xx']
  return {
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    duration: result.duration ?? elapsed,
    rps: ok / (result.duration ?? elapsed),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: n > 0 ? sum / n : NaN,
    bytesPerReq: ok > 0 ? result.throughput.total / result.requests.total : NaN
  }
}

function download ({ url, headers }) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    let bytes = 0
    let firstByte = 0
    const req = http.get(url, { headers, agent: false }, (res) => {
      res.on('data', (chunk) => {
        if (bytes === 0) firstByte = Number(process.hrtime.bigint() - start) / 1e9
        bytes += chunk.length
      })
      res.on('end', () => resolve({ status: res.statusCode, bytes, seconds: Number(process.hrtime.bigint() - start) / 1e9, firstByte, complete: res.complete }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

function request ({ url, method = 'GET', headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = []
      let size = 0
      res.on('data', (c) => { if (size < 4 << 20) { chunks.push(c); size += c.length } })
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

// --- many long-lived streams -------------------------------------------------

let streams = []

function openOne (port, path, headers, st) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1')
    const s = { sock, status: 0, bytes: 0, objects: 0, lastData: 0, error: undefined }
    let head = ''
    let settled = false
    const settle = () => { if (!settled) { settled = true; resolve(s) } }
    sock.setNoDelay(true)
    sock.on('connect', () => {
      let req = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`
      for (const [k, v] of Object.entries(headers)) req += `${k}: ${v}\r\n`
      sock.write(req + '\r\n')
    })
    sock.on('data', (chunk) => {
      s.bytes += chunk.length
      s.lastData = Date.now()
      if (s.status === 0) {
        head += chunk.toString('latin1')
        const m = /^HTTP\/1\.1 (\d{3})/.exec(head)
        if (m !== null) {
          s.status = Number(m[1])
          if (s.status === 200) st.established++
          else st.failed++
          settle()
        }
      }
      // Each stats object carries one "read" key; chunks almost never split it.
      let i = -1
      const text = chunk.toString('latin1')
      while ((i = text.indexOf('"read":', i + 1)) !== -1) s.objects++
    })
    sock.on('error', (err) => { s.error = err.code ?? err.message; if (!settled) st.failed++; settle() })
    sock.on('close', () => { s.closed = true; settle() })
    sock.setTimeout(30_000, () => { if (!settled) { s.error = 'timeout'; st.failed++; sock.destroy(); settle() } })
  })
}

// A batch must stay under the gateway's limits.maxConnectionsPerAddress (64
// unauthenticated connections per address): each batch is answered, so
// authenticated, before the next one is dialled.
async function streamsOpen ({ port, paths, headers, count, batch = 50 }) {
  const st = { established: 0, failed: 0 }
  const start = Date.now()
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i)
    const opened = await Promise.all(Array.from({ length: n }, (_, j) => openOne(port, paths[(i + j) % paths.length], headers, st)))
    for (const s of opened) s.sock.setTimeout(0)
    streams.push(...opened)
  }
  const errors = {}
  for (const s of streams) if (s.error !== undefined) errors[s.error] = (errors[s.error] ?? 0) + 1
  return { requested: count, established: st.established, failed: st.failed, errors, seconds: (Date.now() - start) / 1000 }
}

function streamsCheck ({ windowMs }) {
  const now = Date.now()
  let delivering = 0
  let open = 0
  let objects = 0
  let bytes = 0
  let minObjects = Infinity
  for (const s of streams) {
    if (!s.closed && s.status === 200) open++
    if (s.status === 200 && !s.closed && now - s.lastData <= windowMs) delivering++
    objects += s.objects
    bytes += s.bytes
    if (s.status === 200 && s.objects < minObjects) minObjects = s.objects
  }
  return { total: streams.length, open, delivering, objects, bytes, minObjects: minObjects === Infinity ? 0 : minObjects }
}

function streamsClose () {
  const n = streams.length
  for (const s of streams) s.sock.destroy()
  streams = []
  return { closed: n }
}

const handlers = {
  load,
  download,
  request,
  'streams-open': streamsOpen,
  'streams-check': streamsCheck,
  'streams-close': streamsClose
}

process.on('message', async (msg) => {
  const h = handlers[msg?.cmd]
  if (h === undefined) return send({ type: 'error', message: `unknown command ${msg?.cmd}` })
  try {
    const result = await h(msg)
    send({ type: 'result', id: msg.id, ...result })
  } catch (err) {
    send({ type: 'error', message: err?.stack ?? String(err) })
  }
})
process.on('disconnect', () => process.exit(0))
send({ type: 'ready', pid: process.pid })
