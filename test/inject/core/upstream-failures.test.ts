import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'

/**
 * Timeouts and unreachable daemons, against small fake upstreams (the real
 * daemon cannot be made to hang on cue). Each answer is Docker-shaped.
 */

async function listen (server: net.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const a = server.address()
  return typeof a === 'object' && a !== null ? a.port : 0
}

t.test('a daemon that refuses connections is a 502 naming the host', async t => {
  const s = net.createServer()
  const port = await listen(s)
  await new Promise<void>(resolve => s.close(() => { resolve() }))
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}` })
  const res = await request(`${gw.url}/containers/json`, { headers: { authorization: `Bearer ${gw.token()}` } })
  t.equal(res.statusCode, 502)
  t.match(await res.body.json(), { message: /cannot reach Docker daemon "default": ECONNREFUSED/ })
})

t.test('a daemon that never answers is a 504 after the headers timeout', async t => {
  const held: http.ServerResponse[] = []
  const s = http.createServer((_req, res) => { held.push(res) })
  const port = await listen(s)
  t.teardown(() => { for (const r of held) r.destroy(); s.close() })
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}`, GATEWAY_UPSTREAM_HEADERS_TIMEOUT: '300' })
  const started = Date.now()
  const res = await request(`${gw.url}/containers/json`, { headers: { authorization: `Bearer ${gw.token()}` } })
  t.equal(res.statusCode, 504)
  t.match(await res.body.json(), { message: /did not answer in time \(UND_ERR_HEADERS_TIMEOUT\)/ })
  t.ok(Date.now() - started < 5000, 'answered soon after the timeout')
})

t.test('a follow stream has no read timeout, only a headers timeout', async t => {
  const s = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' })
    res.write('first\n')
    // Silent for longer than the body timeout a short call would get.
    setTimeout(() => { res.end('second\n') }, 700)
  })
  const port = await listen(s)
  t.teardown(() => { s.close() })
  // Ownership would look the container up first; this test is about the stream alone.
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}`, GATEWAY_UPSTREAM_BODY_TIMEOUT: '200', GATEWAY_OWNERSHIP: 'false' })
  const res = await request(`${gw.url}/containers/abc123/logs?follow=1&stdout=1`, { headers: { authorization: `Bearer ${gw.token()}` } })
  t.equal(res.statusCode, 200)
  t.equal(await res.body.text(), 'first\nsecond\n')
})

t.test('a short call whose body stalls is cut after the body timeout: a 504, not a truncated 200', async t => {
  const s = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
    res.write('[')
  })
  const port = await listen(s)
  t.teardown(() => { s.closeAllConnections(); s.close() })
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}`, GATEWAY_UPSTREAM_BODY_TIMEOUT: '200' })
  const res = await request(`${gw.url}/containers/json`, { headers: { authorization: `Bearer ${gw.token()}` } })
  // A short answer is gathered before it is sent (src/upstream/relay.ts), so
  // a daemon that stalls mid-body is a clean Docker-shaped 504.
  t.equal(res.statusCode, 504)
  t.match(await res.body.json(), { message: /did not answer in time \(UND_ERR_BODY_TIMEOUT\)/ })
})

t.test('a stream whose daemon dies mid-body is cut: a truncated body is an error, not a silent short read', async t => {
  const s = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100' })
    res.write('x'.repeat(10), () => { setTimeout(() => { res.socket?.destroy() }, 50) })
  })
  const port = await listen(s)
  t.teardown(() => { s.closeAllConnections(); s.close() })
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}`, GATEWAY_OWNERSHIP: 'false' })
  const res = await request(`${gw.url}/containers/abc/export`, { headers: { authorization: `Bearer ${gw.token()}` } })
  t.equal(res.statusCode, 200)
  await t.rejects(res.body.text(), 'the client sees the cut')
})

t.test('hop-by-hop headers are not relayed; Docker headers are', async t => {
  const s = http.createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'api-version': '1.41',
      connection: 'keep-alive, x-secret-hop',
      'x-secret-hop': 'nope',
      'keep-alive': 'timeout=5'
    })
    res.end('[]')
  })
  const port = await listen(s)
  t.teardown(() => { s.close() })
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}` })
  const res = await request(`${gw.url}/containers/json`, { headers: { authorization: `Bearer ${gw.token()}` } })
  t.equal(res.headers['api-version'], '1.41')
  t.equal(res.headers['x-secret-hop'], undefined)
  t.same(await res.body.json(), [])
})

t.test('what reaches the daemon: rebuilt path, only documented parameters, no client credentials', async t => {
  let seen: http.IncomingMessage | undefined
  const s = http.createServer((req, res) => { seen = req; res.writeHead(200, { 'content-type': 'application/json' }); res.end('[]') })
  const port = await listen(s)
  t.teardown(() => { s.close() })
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}` })
  await request(`${gw.url}/v1.41/containers/json?all=True&trunc_cmd=0&filters={"label":["a=b"]}`, {
    headers: { authorization: `Bearer ${gw.token()}`, 'x-registry-auth': 'c2VjcmV0', cookie: 'a=b' }
  }).then(async r => await r.body.dump())
  // booleans are read as dockerd reads them and forwarded as 1/0 (src/docker/query.ts)
  t.equal(seen?.url, '/v1.41/containers/json?all=1&filters=' + encodeURIComponent('{"label":["a=b"]}'))
  t.equal(seen?.headers.authorization, undefined)
  t.equal(seen?.headers['x-registry-auth'], undefined)
  t.equal(seen?.headers.cookie, undefined)
})

t.test('a JSON body on a no-body route (dockerode repeats options there) is dropped, never forwarded', async t => {
  let seen: { url?: string, length?: string, body: string } | undefined
  const s = http.createServer((req, res) => {
    let body = ''
    req.on('data', d => { body += String(d) })
    req.on('end', () => {
      seen = { url: req.url, length: req.headers['content-length'], body }
      res.writeHead(204)
      res.end()
    })
  })
  const port = await listen(s)
  t.teardown(() => { s.close() })
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}`, GATEWAY_OWNERSHIP: 'false' })
  const res = await request(`${gw.url}/containers/abc123/stop?t=1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.token()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ t: 999, signal: 'SIGKILL' })
  })
  t.equal(res.statusCode, 204)
  t.equal(seen?.url, '/containers/abc123/stop?t=1', 'only the validated query')
  t.equal(seen?.body, '', 'no body reached the daemon')
})
