import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { startGateway } from '../../helpers/gateway'

/**
 * A stream passes through with backpressure, not buffered (src/upstream/relay.ts):
 * a client that stops reading stops the daemon's writes within a bounded
 * number of bytes, and the whole body still arrives once it reads again.
 * The daemon is a stand-in that writes as fast as its socket lets it and
 * counts what it got out.
 */

const CHUNK = Buffer.alloc(1024 * 1024, 0x61)
const TOTAL_MIB = 256

async function listen (server: net.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const a = server.address()
  return typeof a === 'object' && a !== null ? a.port : 0
}

/** Writes `next()`'s chunks as fast as the socket takes them (waiting for 'drain'), then ends the response. */
function writeAsFastAsRead (res: http.ServerResponse, next: () => Buffer | undefined): void {
  const pump = (): void => {
    for (let chunk = next(); chunk !== undefined; chunk = next()) {
      if (!res.write(chunk)) { res.once('drain', pump); return }
    }
    res.end()
  }
  pump()
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

t.test('a client that stops reading stops the daemon within a bounded window; the body then arrives whole', async t => {
  let written = 0
  const daemon = http.createServer((req, res) => {
    // The gateway's own health checks (/_ping, /version) get a short answer.
    if (req.url?.endsWith('/export') !== true) { res.end('OK'); return }
    res.writeHead(200, { 'content-type': 'application/x-tar' })
    writeAsFastAsRead(res, () => {
      if (written >= TOTAL_MIB * CHUNK.length) return undefined
      written += CHUNK.length
      return CHUNK
    })
  })
  const port = await listen(daemon)
  t.teardown(() => { daemon.closeAllConnections(); daemon.close() })
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}`, GATEWAY_OWNERSHIP: 'false' })

  // A raw client that reads the head, then nothing for a while.
  const client = net.connect(gw.port, '127.0.0.1')
  t.teardown(() => { client.destroy() })
  await new Promise<void>(resolve => client.once('connect', resolve))
  client.write(`GET /containers/abc123/export HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${gw.token()}\r\n\r\n`)
  let received = 0
  const counting = (chunk: Buffer): void => { received += chunk.length }
  client.on('data', counting)
  while (received === 0) await sleep(10)
  client.pause()

  // Let the pipes fill, then check that the daemon is held back.
  await sleep(1500)
  const stalled = written
  await sleep(1000)
  t.equal(written, stalled, `the daemon is paused while the client does not read (${stalled / CHUNK.length} MiB written)`)
  t.ok(stalled < 48 * CHUNK.length, `bounded: ${stalled / CHUNK.length} MiB of ${TOTAL_MIB} MiB left the daemon (socket buffers and the relay's 256 KiB)`)

  client.resume()
  // The head and the chunked framing come on top of the body's bytes.
  const deadline = Date.now() + 120_000
  while (received <= TOTAL_MIB * CHUNK.length && Date.now() < deadline) await sleep(20)
  t.equal(written, TOTAL_MIB * CHUNK.length, 'the daemon wrote everything once the client read again')
  t.ok(received > TOTAL_MIB * CHUNK.length, `the client got the whole body (${received} bytes with the head and framing)`)
})

t.test('a short answer that outgrows the gathering buffer goes on as a stream, whole and in order', async t => {
  // Past SHORT_BUFFER_MAX (256 KiB) the gathered pieces wait for fastify to pipe
  // the body (after its onSend hooks) and are written before the rest.
  const piece = (i: number): string => JSON.stringify({ Id: i.toString(16).padStart(64, '0'), Names: [`/c${i}`], Labels: { n: 'x'.repeat(200) } })
  const items = Array.from({ length: 6000 }, (_, i) => piece(i))
  const body = Buffer.from(`[${items.join(',')}]`)
  const daemon = http.createServer((req, res) => {
    if (req.url?.includes('/containers/json') !== true) { res.end('OK'); return }
    res.writeHead(200, { 'content-type': 'application/json' })
    let off = 0
    writeAsFastAsRead(res, () => {
      if (off >= body.length) return undefined
      const chunk = body.subarray(off, off + 32 * 1024)
      off += chunk.length
      return chunk
    })
  })
  const port = await listen(daemon)
  t.teardown(() => { daemon.closeAllConnections(); daemon.close() })
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}`, GATEWAY_OWNERSHIP: 'false' })
  const res = await fetch(`${gw.url}/containers/json?all=1`, { headers: { authorization: `Bearer ${gw.token({ scope: 'containers:read' })}` } })
  t.equal(res.status, 200)
  const got = Buffer.from(await res.arrayBuffer())
  t.ok(body.length > 1024 * 1024, `the answer is ${body.length} bytes`)
  t.ok(got.equals(body), 'the client got the daemon\'s bytes, whole and in order')
})
