// The upgrade plugin alone (no daemon): upgrade requests go through fastify's routing and hooks,
// their bodies are parsed as for any request, refusals are ordinary responses.
import net from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import upgradePlugin from '../../../plugins/upgrade'
import { talk as rawTalk } from '../../helpers/security/raw-http'

interface Teardown { teardown: (fn: () => unknown) => void }

interface Seen { body: unknown, head: string, hooks: string[] }

/**
 * An app with an auth hook (Bearer ok), a JSON-body upgrade route that answers 101 and then
 * echoes what it reads, an ordinary route, and a GET upgrade route.
 */
async function build (t: Teardown, opts: { bodyLimit?: number, requestTimeoutMs?: number } = {}): Promise<{ app: FastifyInstance, port: number, seen: Seen[] }> {
  const app = Fastify({ bodyLimit: opts.bodyLimit })
  const seen: Seen[] = []
  await app.register(upgradePlugin, { requestTimeoutMs: opts.requestTimeoutMs ?? 5000 })
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization !== 'Bearer ok') {
      await reply.code(401).send({ message: 'authentication required' })
    }
  })
  app.addHook('preHandler', async (request) => {
    (request as unknown as { hooks: string[] }).hooks = ['onRequest', 'preHandler']
  })
  const stream = async (request: import('fastify').FastifyRequest): Promise<void> => {
    const { socket, head } = await request.upgradeSocket()
    seen.push({ body: request.body, head: head.toString(), hooks: (request as unknown as { hooks: string[] }).hooks })
    socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n')
    socket.write(`head=${head.toString()};`)
    socket.on('data', (chunk: Buffer) => { socket.write(`got=${chunk.toString()};`) })
    socket.on('end', () => { socket.end('bye') })
  }
  app.post('/exec/:id/start', stream)
  app.get('/containers/:id/attach/ws', stream)
  app.get('/_ping', async () => 'OK')
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })
  return { app, port: (app.server.address() as net.AddressInfo).port, seen }
}

/** Write pieces (strings, or pauses in ms), then everything the server sent until it closed. */
const talk = async (port: number, ...steps: Array<string | number>): Promise<string> => (await rawTalk(port, steps)).text

const H = (extra = ''): string => `POST /exec/abc/start HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nAuthorization: Bearer ok\r\n${extra}`
const JSON_BODY = '{"Detach":false,"Tty":false}'

t.test('an onRequest hook refuses an upgrade request: ordinary 401 JSON, connection closed, body never waited for', async t => {
  const { port, seen } = await build(t)
  const started = Date.now()
  // Announces a body it never sends: the refusal must not wait for it.
  const text = await talk(port, 'POST /exec/abc/start HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n')
  t.match(text, /^HTTP\/1\.1 401 Unauthorized\r\n/)
  t.match(text, /\r\nconnection: close\r\n/i)
  t.match(text, /\r\n\r\n\{"message":"authentication required"\}$/)
  t.ok(Date.now() - started < 3000)
  t.equal(seen.length, 0, 'the handler never ran')
})

t.test('the JSON body in the same packet as the head is parsed; the bytes after it are the stream', async t => {
  const { port, seen } = await build(t)
  const text = await talk(port, `${H(`Content-Type: application/json\r\nContent-Length: ${JSON_BODY.length}\r\n`)}\r\n${JSON_BODY}early`, 200, 'later', 200, '<END>')
  t.same(seen[0]?.body, { Detach: false, Tty: false })
  t.same(seen[0]?.hooks, ['onRequest', 'preHandler'])
  t.equal(seen[0]?.head, 'early')
  t.equal(text, 'HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhead=early;got=later;bye')
})

t.test('a body that arrives later, in pieces, is parsed; nothing of the stream is read before the handler takes it', async t => {
  const { port, seen } = await build(t)
  const text = await talk(port, `${H(`Content-Type: application/json\r\nContent-Length: ${JSON_BODY.length}\r\n`)}\r\n`, 100, JSON_BODY.slice(0, 10), 100, JSON_BODY.slice(10), 100, 'stdin', 200, '<END>')
  t.same(seen[0]?.body, { Detach: false, Tty: false })
  t.equal(text, 'HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhead=;got=stdin;bye')
})

t.test('a chunked body (docker-modem sends one for hijacks) is decoded; what follows its last chunk is the stream', async t => {
  const { port, seen } = await build(t)
  const chunked = `${(10).toString(16)}\r\n${JSON_BODY.slice(0, 10)}\r\n${(JSON_BODY.length - 10).toString(16)};ext=1\r\n${JSON_BODY.slice(10)}\r\n0\r\n\r\n`
  const text = await talk(port, `${H('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n')}\r\n${chunked.slice(0, 7)}`, 100, `${chunked.slice(7)}after`, 200, '<END>')
  t.same(seen[0]?.body, { Detach: false, Tty: false })
  t.equal(seen[0]?.head, 'after')
  t.match(text, /head=after;bye$/)
})

t.test('a malformed chunked body is a 400, not a hang', async t => {
  const { port, seen } = await build(t)
  const text = await talk(port, `${H('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n')}\r\nzz\r\n{}\r\n0\r\n\r\n`)
  t.match(text, /^HTTP\/1\.1 400 /)
  t.equal(seen.length, 0)
})

t.test('a body over bodyLimit is a 413', async t => {
  const { port, seen } = await build(t, { bodyLimit: 16 })
  const text = await talk(port, `${H(`Content-Type: application/json\r\nContent-Length: ${JSON_BODY.length}\r\n`)}\r\n${JSON_BODY}`)
  t.match(text, /^HTTP\/1\.1 413 /)
  t.equal(seen.length, 0)
})

t.test('Expect: 100-continue gets its interim answer once the body is wanted', async t => {
  const { port, seen } = await build(t)
  const socket = net.connect(port, '127.0.0.1')
  let text = ''
  socket.on('data', (chunk: Buffer) => { text += chunk.toString() })
  socket.write(`${H(`Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${JSON_BODY.length}\r\n`)}\r\n`)
  await new Promise((resolve) => socket.once('data', resolve))
  t.equal(text, 'HTTP/1.1 100 Continue\r\n\r\n')
  socket.end(JSON_BODY)
  await new Promise((resolve) => socket.on('close', resolve))
  t.same(seen[0]?.body, { Detach: false, Tty: false })
})

t.test('a body that never comes: 408 after requestTimeoutMs', async t => {
  const { port, seen } = await build(t, { requestTimeoutMs: 300 })
  const text = await talk(port, `${H(`Content-Type: application/json\r\nContent-Length: ${JSON_BODY.length}\r\n`)}\r\n{"Det`)
  t.match(text, /^HTTP\/1\.1 408 /)
  t.equal(seen.length, 0)
})

t.test('an upgrade request for an ordinary route gets the ordinary response, then the connection closes', async t => {
  const { port } = await build(t)
  const text = await talk(port, 'GET /_ping HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nAuthorization: Bearer ok\r\n\r\n')
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/)
  t.match(text, /\r\nconnection: close\r\n/i)
  t.match(text, /\r\n\r\nOK$/)
})

t.test('an upgrade request for an unknown path gets fastify\'s 404', async t => {
  const { port } = await build(t)
  const text = await talk(port, 'GET /nope HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nAuthorization: Bearer ok\r\n\r\n')
  t.match(text, /^HTTP\/1\.1 404 Not Found\r\n/)
})

t.test('the same route without Upgrade: isUpgrade is false and upgradeSocket() is an ordinary 400', async t => {
  const { port, seen } = await build(t)
  const text = await talk(port, `POST /exec/abc/start HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ok\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${JSON_BODY.length}\r\n\r\n${JSON_BODY}`)
  t.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/)
  t.match(text, /this request did not ask for a connection upgrade/)
  t.equal(seen.length, 0)
})

t.test('a GET upgrade with a body no parser read: the body is dropped, not taken for stream bytes', async t => {
  const { port, seen } = await build(t)
  const text = await talk(port, 'GET /containers/abc/attach/ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAuthorization: Bearer ok\r\nContent-Length: 4\r\n\r\nBODYstream', 200, '<END>')
  t.equal(seen[0]?.head, 'stream')
  t.match(text, /head=stream;bye$/)
})

t.test('a client that goes away before its body arrived: no handler, no crash', async t => {
  const { port, seen } = await build(t)
  const socket = net.connect(port, '127.0.0.1')
  socket.write(`${H(`Content-Type: application/json\r\nContent-Length: ${JSON_BODY.length}\r\n`)}\r\n{"De`)
  await new Promise((resolve) => setTimeout(resolve, 100))
  socket.destroy()
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(seen.length, 0)
  t.match(await talk(port, 'GET /_ping HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ok\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 OK/, 'the server still answers')
})

t.test('app.close() ends upgraded streams instead of waiting for them', async t => {
  const { app, port, seen } = await build(t)
  const socket = net.connect(port, '127.0.0.1')
  const closed = new Promise((resolve) => socket.on('close', resolve))
  socket.on('error', () => {})
  socket.write(`${H()}\r\n`)
  await new Promise((resolve) => socket.once('data', resolve))
  t.equal(seen.length, 1)
  const started = Date.now()
  await app.close()
  await closed
  t.ok(Date.now() - started < 2000)
})
