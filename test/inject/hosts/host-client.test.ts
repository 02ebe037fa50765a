import http from 'node:http'
import net from 'node:net'
import t from 'tap'
import { openHost, type UpstreamHost } from '../../../src/upstream/hosts'
import { GatewayMetrics } from '../../../src/metrics'
import { freePort } from '../../helpers/net'

// The host's own client (host.call, host.upgrade) against stand-in daemons on
// real sockets, for what a real dockerd will not do on demand (hang, answer
// too much). Every call's outcome lands on the host's breaker and metrics.
// The same against the real app and a real dockerd: one-client-breaker.test.ts.

interface Teardown { teardown: (fn: () => unknown) => void }

async function standIn (t: Teardown, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) })
  return `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`
}

async function hostAt (t: Teardown, url: string, timeouts: { headers?: number } = {}): Promise<{ host: UpstreamHost, metrics: GatewayMetrics }> {
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  const host = openHost('x', { url }, {
    connectTimeout: 1000,
    headersTimeout: timeouts.headers ?? 5000,
    bodyTimeout: 5000,
    connections: 2,
    breaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 }
  }, metrics)
  t.teardown(async () => { await Promise.all([host.short.destroy(), host.probe.destroy(), host.closeStreams(false)]) })
  return { host, metrics }
}

/** How many daemon answers host x's metrics have seen (dgw_upstream_response_seconds count). */
async function observed (metrics: GatewayMetrics): Promise<number> {
  const m = /^dgw_upstream_response_seconds_count\{host="x"\} (\d+)$/m.exec(await metrics.registry.metrics())
  return Number(m?.[1] ?? 0)
}

/** The error a call threw (fails the test when it did not throw). */
async function failure (t: { fail: (message: string) => unknown }, p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p
  } catch (err) {
    return err as Record<string, unknown>
  }
  t.fail('the call did not throw')
  return {}
}

t.test('a refused connection is a 502 naming the host, and opens the circuit after the threshold', async t => {
  const { host, metrics } = await hostAt(t, `tcp://127.0.0.1:${await freePort()}`)
  t.match(await failure(t, host.call({ path: '/_ping' })), { statusCode: 502, message: 'cannot reach Docker daemon "x": ECONNREFUSED', reason: 'ECONNREFUSED' })
  t.equal(host.breaker.state, 'closed')
  t.equal(host.breaker.consecutiveFailures, 1)
  t.match(await failure(t, host.call({ path: '/_ping' })), { statusCode: 502 })
  t.equal(host.breaker.state, 'open')
  t.equal(host.breaker.reason, 'ECONNREFUSED')
  t.equal(await observed(metrics), 0, 'no answer, no latency observed')
})

t.test('a daemon 404 (or 500) is an answer: returned, counted as the daemon alive, latency observed', async t => {
  let status = 404
  const url = await standIn(t, (_req, res) => { res.statusCode = status; res.end('{"message":"No such container: nope"}') })
  const { host, metrics } = await hostAt(t, url)
  host.breaker.onFailure('ECONNREFUSED')
  for (let i = 0; i < 3; i++) {
    const res = await host.call({ path: '/containers/nope/json' })
    t.same([res.status, res.text], [404, '{"message":"No such container: nope"}'])
  }
  status = 500
  t.equal((await host.call({ path: '/containers/nope/json' })).status, 500)
  t.equal(host.breaker.consecutiveFailures, 0, 'the earlier failure was reset by the answers')
  t.equal(host.breaker.state, 'closed')
  t.equal(await observed(metrics), 4)
})

t.test('maxBytes: a larger answer reads as undefined, and the daemon still answered', async t => {
  const url = await standIn(t, (_req, res) => { res.end('x'.repeat(10_000)) })
  const { host } = await hostAt(t, url)
  t.equal((await host.call({ path: '/big', maxBytes: 9_999 })).text, undefined)
  t.equal((await host.call({ path: '/big', maxBytes: 10_000 })).text?.length, 10_000)
  t.equal(host.breaker.consecutiveFailures, 0)
})

t.test('a daemon that never answers: 504 at the headers timeout or the deadline, counted', async t => {
  const url = await standIn(t, () => { /* never answers */ })
  const { host } = await hostAt(t, url, { headers: 200 })
  t.match(await failure(t, host.call({ path: '/_ping' })), { statusCode: 504, reason: 'UND_ERR_HEADERS_TIMEOUT' })
  t.match(await failure(t, host.call({ path: '/_ping', headersTimeout: 10_000, deadlineMs: 200 })), { statusCode: 504, reason: 'deadline exceeded', message: 'Docker daemon "x" did not answer within 200 ms' })
  t.equal(host.breaker.state, 'open')
  t.equal(host.breaker.reason, 'deadline exceeded')
})

t.test('the caller giving up is not held against the daemon', async t => {
  const url = await standIn(t, () => { /* never answers */ })
  const { host } = await hostAt(t, url)
  const gone = new AbortController()
  const pending = host.call({ path: '/_ping', signal: gone.signal })
  setTimeout(() => { gone.abort() }, 100)
  t.match(await failure(t, pending), { name: 'AbortError' })
  t.equal(host.breaker.consecutiveFailures, 0)
})

/** A front server whose accepted socket host.upgrade pipes; returns what the client read. */
async function upgradeThrough (t: Teardown, host: UpstreamHost, headersTimeoutMs = 5000): Promise<{ text: string, status: number }> {
  let result: Promise<{ status: number }> | undefined
  const front = net.createServer(socket => {
    result = host.upgrade({
      client: socket,
      clientHead: Buffer.alloc(0),
      method: 'POST',
      path: '/exec/nope/start',
      headers: { connection: 'Upgrade', upgrade: 'tcp', 'content-type': 'application/json' },
      body: Buffer.from('{"Detach":false}'),
      headersTimeoutMs
    })
  })
  await new Promise<void>(resolve => front.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise(resolve => front.close(resolve)) })
  const client = net.connect({ port: (front.address() as net.AddressInfo).port, host: '127.0.0.1' })
  let text = ''
  client.on('data', (b: Buffer) => { text += b.toString('latin1') })
  client.on('error', () => {})
  await new Promise(resolve => client.on('close', resolve))
  const { status } = await (result as Promise<{ status: number }>)
  return { text, status }
}

t.test('upgrade: a daemon it cannot reach gets the client a 502 and counts against the breaker', async t => {
  const { host } = await hostAt(t, `tcp://127.0.0.1:${await freePort()}`)
  const r = await upgradeThrough(t, host)
  t.equal(r.status, 502)
  t.match(r.text, /^HTTP\/1\.1 502 Bad Gateway\r\n[^]*"message":"cannot reach the Docker daemon at tcp:\/\/127\.0\.0\.1:\d+: ECONNREFUSED"/)
  t.equal(host.breaker.consecutiveFailures, 1)
  await upgradeThrough(t, host)
  t.equal(host.breaker.state, 'open')
})

t.test('upgrade: a daemon that sends no head in time is a 504, counted', async t => {
  const url = await standIn(t, () => { /* never answers */ })
  const { host } = await hostAt(t, url)
  t.equal((await upgradeThrough(t, host, 200)).status, 504)
  t.equal(host.breaker.consecutiveFailures, 1)
  t.equal(host.breaker.reason, '', 'still closed below the threshold')
})

t.test('upgrade: a non-101 answer (404 no such exec) is relayed and counts as the daemon alive', async t => {
  const url = await standIn(t, (_req, res) => { res.statusCode = 404; res.setHeader('content-type', 'application/json'); res.end('{"message":"No such exec instance: nope"}') })
  const { host, metrics } = await hostAt(t, url)
  host.breaker.onFailure('ECONNREFUSED')
  const r = await upgradeThrough(t, host)
  t.equal(r.status, 404)
  t.match(r.text, /No such exec instance: nope/)
  t.equal(host.breaker.consecutiveFailures, 0)
  t.equal(await observed(metrics), 1)
})
