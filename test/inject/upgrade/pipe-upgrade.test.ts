// pipeUpgrade against scripted daemons (raw TCP servers), for what a real dockerd will not do
// on demand: hang, overflow, refuse with a keep-alive answer while recording every byte.
import net from 'node:net'
import t from 'tap'
import { parseUpstream } from '../../../src/upstream/target'
import { pipeUpgrade, type PipeUpgradeOptions, type PipeUpgradeResult } from '../../../src/upgrade/pipe'

interface Teardown { teardown: (fn: () => unknown) => void }

interface FakeDaemon {
  url: string
  /** Everything each connection received, in order. */
  received: string[]
  connections: number
}

/** A TCP server that runs `script` for each connection; closed at teardown. */
async function fakeDaemon (t: Teardown, script: (socket: net.Socket, index: number, received: string[]) => void): Promise<FakeDaemon> {
  const state: FakeDaemon = { url: '', received: [], connections: 0 }
  const sockets = new Set<net.Socket>()
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const index = state.connections++
    state.received[index] = ''
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => { state.received[index] += chunk.toString('latin1') })
    script(socket, index, state.received)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  const address = server.address() as net.AddressInfo
  state.url = `tcp://127.0.0.1:${address.port}`
  return state
}

/**
 * A front server whose accepted socket is given to pipeUpgrade as the client, with the
 * options given; returns a connected client socket and the result.
 */
async function front (t: Teardown, opts: Omit<PipeUpgradeOptions, 'client'>, clientOpts: { allowHalfOpen?: boolean } = {}): Promise<{ client: net.Socket, result: Promise<PipeUpgradeResult>, text: () => string, closed: Promise<void> }> {
  let resolveResult: (r: PipeUpgradeResult) => void = () => {}
  const result = new Promise<PipeUpgradeResult>((resolve) => { resolveResult = resolve })
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    void pipeUpgrade({ ...opts, client: socket }).then(resolveResult)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise((resolve) => server.close(resolve)) })
  // Like real clients, it closes when the other side has ended, unless told to stay half-open.
  const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: clientOpts.allowHalfOpen ?? false })
  t.teardown(() => { client.destroy() })
  let text = ''
  client.on('data', (chunk: Buffer) => { text += chunk.toString('latin1') })
  client.on('error', () => {})
  const closed = new Promise<void>((resolve) => client.on('close', () => resolve()))
  await new Promise((resolve) => client.on('connect', resolve))
  return { client, result, text: () => text, closed }
}

const base = {
  method: 'POST',
  path: '/exec/abc/start',
  headers: { Host: 'docker', 'Content-Type': 'application/json', Connection: 'Upgrade', Upgrade: 'tcp' },
  body: Buffer.from('{"Detach":false,"Tty":false}'),
  headersTimeoutMs: 5000
}

t.test('the request is framed with Content-Length, whatever the given headers say', async t => {
  const daemon = await fakeDaemon(t, (socket) => {
    socket.once('data', () => { socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}') })
  })
  const f = await front(t, { ...base, target: parseUpstream(daemon.url), clientHead: Buffer.alloc(0), headers: { ...base.headers, 'Transfer-Encoding': 'chunked', 'content-length': '999' } })
  await f.result
  const request = daemon.received[0] ?? ''
  t.match(request, /^POST \/exec\/abc\/start HTTP\/1\.1\r\n/)
  t.match(request, /\r\nContent-Length: 28\r\n/)
  t.notMatch(request, /transfer-encoding|999/i)
  t.ok(request.endsWith('\r\n\r\n{"Detach":false,"Tty":false}'))
})

t.test('101: the head goes to the client as sent, then bytes flow both ways, then both close', async t => {
  const daemon = await fakeDaemon(t, (socket) => {
    socket.once('data', () => {
      // The first stream bytes in the same packet as the head: they must not be lost.
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly;')
      socket.on('data', (chunk: Buffer) => { socket.write(`echo:${chunk.toString()};`) })
      socket.on('end', () => { socket.end('bye') })
    })
  })
  const meter = { bytesIn: 0, bytesOut: 0 }
  let meterAtClientClose: typeof meter | undefined
  const f = await front(t, { ...base, meter, target: parseUpstream(daemon.url), clientHead: Buffer.from('head;') })
  f.client.on('close', () => { meterAtClientClose = { ...meter } })
  await new Promise((resolve) => setTimeout(resolve, 100))
  f.client.write('more')
  await new Promise((resolve) => setTimeout(resolve, 100))
  f.client.end()
  await f.closed
  const result = await f.result
  t.equal(f.text(), 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly;echo:head;;echo:more;bye')
  t.match(daemon.received[0], /\r\n\r\n\{"Detach":false,"Tty":false\}head;more$/)
  t.same(result, { status: 101, bytesIn: 'head;more'.length, bytesOut: 'early;echo:head;;echo:more;bye'.length })
  t.same(meterAtClientClose, { bytesIn: result.bytesIn, bytesOut: result.bytesOut }, 'the meter was final when the client connection closed')
})

t.test('no client byte reaches the daemon before its 101: a refused upgrade cannot smuggle a request', async t => {
  const daemon = await fakeDaemon(t, (socket) => {
    socket.once('data', () => {
      // A keep-alive refusal, as dockerd answers an unknown exec id: it would read on.
      const json = '{"message":"No such exec instance: abc"}'
      socket.write(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`)
    })
  })
  const smuggled = 'POST /containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n'
  const f = await front(t, { ...base, target: parseUpstream(daemon.url), clientHead: Buffer.from(smuggled) })
  f.client.write(smuggled)
  await f.closed
  const result = await f.result
  t.equal(result.status, 404)
  t.match(f.text(), /^HTTP\/1\.1 404 Not Found\r\n/)
  t.match(f.text(), /\r\nConnection: close\r\n\r\n\{"message":"No such exec instance: abc"\}$/)
  t.equal(daemon.received.join('').split('HTTP/1.1').length - 1, 1, 'the daemon received exactly one request')
  t.notMatch(daemon.received.join(''), /containers\/create/)
})

t.test('a non-101 answer without length is relayed until the daemon closes (dockerd\'s raw attach errors, or 200 without Upgrade)', async t => {
  const daemon = await fakeDaemon(t, (socket) => {
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n')
      setTimeout(() => { socket.write('part1 ') }, 50)
      setTimeout(() => { socket.end('part2') }, 100)
    })
  })
  const f = await front(t, { ...base, method: 'POST', path: '/containers/x/attach?logs=1&stdout=1', headers: { Host: 'docker' }, body: undefined, target: parseUpstream(daemon.url), clientHead: Buffer.alloc(0) })
  await f.closed
  t.equal(f.text(), 'HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: close\r\n\r\npart1 part2')
  t.same(await f.result, { status: 200, bytesIn: 0, bytesOut: 11 })
})

t.test('a client that keeps its side open after the answer is closed after a linger', async t => {
  const daemon = await fakeDaemon(t, (socket) => {
    socket.once('data', () => { socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}') })
  })
  const started = Date.now()
  const f = await front(t, { ...base, target: parseUpstream(daemon.url), clientHead: Buffer.alloc(0) }, { allowHalfOpen: true })
  // pipeUpgrade resolves only when its side of the client connection is closed. (The client
  // cannot tell: it already had our FIN, and a close after that sends nothing.)
  t.equal((await f.result).status, 404)
  t.match(f.text(), /^HTTP\/1\.1 404 Not Found\r\n/)
  t.ok(Date.now() - started < 8000, 'closed by the gateway, not by the client')
})

t.test('a daemon that sends no head in time: 504 JSON to the client, daemon connection closed', async t => {
  let daemonSocketEnded: Promise<void> = Promise.resolve()
  const daemon = await fakeDaemon(t, (socket) => {
    daemonSocketEnded = new Promise((resolve) => socket.on('end', () => resolve()))
  })
  const seen: number[] = []
  const f = await front(t, { ...base, headersTimeoutMs: 300, target: parseUpstream(daemon.url), clientHead: Buffer.alloc(0), onResponse: (s) => seen.push(s) })
  await f.closed
  t.match(f.text(), /^HTTP\/1\.1 504 Gateway Timeout\r\n/)
  t.match(f.text(), /\r\nContent-Type: application\/json\r\n/)
  t.same(JSON.parse(f.text().split('\r\n\r\n')[1] ?? ''), { message: 'the Docker daemon did not answer within 300 ms' })
  t.equal((await f.result).status, 504)
  t.same(seen, [504])
  await daemonSocketEnded
  t.pass('the gateway closed its daemon connection')
})

t.test('an unreachable daemon: 502 JSON to the client', async t => {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as net.AddressInfo).port
  await new Promise((resolve) => probe.close(resolve))
  const f = await front(t, { ...base, target: parseUpstream(`tcp://127.0.0.1:${port}`), clientHead: Buffer.alloc(0) })
  await f.closed
  t.match(f.text(), /^HTTP\/1\.1 502 Bad Gateway\r\n/)
  t.match(JSON.parse(f.text().split('\r\n\r\n')[1] ?? ''), { message: /cannot reach the Docker daemon at tcp:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/ })
  t.equal((await f.result).status, 502)
})

t.test('a response head larger than maxHeaderSize is refused with 502', async t => {
  const daemon = await fakeDaemon(t, (socket) => {
    socket.once('data', () => { socket.write(`HTTP/1.1 101 UPGRADED\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`) })
  })
  const f = await front(t, { ...base, target: parseUpstream(daemon.url), clientHead: Buffer.alloc(0) })
  await f.closed
  t.match(f.text(), /^HTTP\/1\.1 502 Bad Gateway\r\n/)
  t.equal((await f.result).status, 502)
})

t.test('the signal aborts a stream: both connections are closed', async t => {
  let daemonSocketEnded: Promise<void> = Promise.resolve()
  const daemon = await fakeDaemon(t, (socket) => {
    daemonSocketEnded = new Promise((resolve) => socket.on('end', () => resolve()))
    socket.once('data', () => { socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n') })
  })
  const ac = new AbortController()
  const f = await front(t, { ...base, signal: ac.signal, target: parseUpstream(daemon.url), clientHead: Buffer.alloc(0) })
  await new Promise((resolve) => setTimeout(resolve, 200))
  ac.abort()
  await f.closed
  await daemonSocketEnded
  t.equal((await f.result).status, 101)
})

t.test('header values with CR/LF are refused before anything is sent', async t => {
  const daemon = await fakeDaemon(t, () => {})
  const client = new net.Socket()
  await t.rejects(pipeUpgrade({ ...base, client, target: parseUpstream(daemon.url), clientHead: Buffer.alloc(0), headers: { Host: 'docker', 'User-Agent': 'x\r\nX-Injected: 1' } }), { code: 'ERR_INVALID_CHAR' })
  await t.rejects(pipeUpgrade({ ...base, client, target: parseUpstream(daemon.url), clientHead: Buffer.alloc(0), path: '/exec/a b/start' }), { code: 'ERR_UNESCAPED_CHARACTERS' })
  t.equal(daemon.connections, 0)
})
