import net from 'node:net'
import t from 'tap'
import { requireDaemon } from '../../helpers/env'
import { request } from 'undici'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { sleep, waitFor } from '../../helpers/wait'
import { startWatchedGateway, type WatchedGateway } from '../../helpers/security/gateway-app'
import { parseAnswer, requestHead, type RawAnswer } from '../../helpers/security/raw-http'

/**
 * Adversarial review of issue 10 finding 2: any valid token could use up
 * every connection the gateway accepts. A connection stopped counting against
 * its address once authenticated and there was no per-principal cap, so with
 * 20 connections in total and 5 per address, principal A (read scope) kept 19
 * authenticated keep-alive connections from 127.0.0.1 open (one ping each
 * keep-alive period) and B was dropped at accept.
 *
 * Now a principal owns at most limits.connectionsPerPrincipal connections (the
 * first principal authenticated on a connection owns it until it closes); a
 * request beyond that is a 429 in Docker's shape with `Connection: close`, and
 * near the total cap the longest-idle keep-alive connections make room.
 * All traffic is loopback; 127.0.0.2... stand for other client addresses.
 */
const TOTAL = 20
const PER_ADDRESS = 5
const PER_PRINCIPAL = 5
/** Closes by the server arrive within this. */
const SETTLE_MS = 600
const d = requireDaemon(t)

interface Conn {
  socket: net.Socket
  isClosed: () => boolean
  received: () => string
}

async function open (port: number, localAddress: string): Promise<Conn> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress })
  let text = ''
  let closed = false
  socket.on('data', (b: Buffer) => { text += b.toString('latin1') })
  socket.on('error', () => {})
  socket.on('close', () => { closed = true })
  await new Promise<void>((resolve) => { socket.once('connect', resolve); socket.once('close', () => { resolve() }) })
  return { socket, isClosed: () => closed, received: () => text }
}

/** One keep-alive HTTP/1.1 request on `c`; resolves with its whole answer (status 0: none, the connection closed). */
async function exchange (c: Conn, path: string, token: string): Promise<RawAnswer> {
  const before = c.received().length
  if (!c.isClosed()) c.socket.write(`GET ${path} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\n\r\n`)
  const complete = (): boolean => {
    const a = parseAnswer(c.received().slice(before), c.isClosed())
    const length = /\r\ncontent-length: *(\d+)/i.exec(a.head)?.[1]
    return c.isClosed() || (a.status > 0 && length !== undefined && a.body.length >= Number(length))
  }
  await waitFor(complete, 5000).catch(() => {})
  return parseAnswer(c.received().slice(before), c.isClosed())
}

/** The daemon's own /version, to tell its answer from anything else. */
async function daemonVersion (): Promise<{ Version: string, GitCommit: string }> {
  const v = await docker<{ Version: string, GitCommit: string }>('/version')
  return v.body
}

function destroyAll (conns: Conn[]): void {
  for (const c of conns) c.socket.destroy()
}

if (d !== undefined) {
  const env = {
    GATEWAY_UPSTREAM: d.url,
    GATEWAY_MAX_CONNECTIONS: String(TOTAL),
    GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
    GATEWAY_CONNECTIONS_PER_PRINCIPAL: String(PER_PRINCIPAL)
  }
  const run = `${process.pid}-${Date.now()}`

  t.test('one principal\'s authenticated keep-alive connections are capped; another is served from the same and another address', async t => {
    const gw = await startWatchedGateway(t, env)
    const tokenA = gw.token(`a-${run}`, 'containers:read')
    const tokenB = gw.token(`b-${run}`, 'containers:read')
    const version = await daemonVersion()
    const conns: Conn[] = []
    t.teardown(() => { destroyAll(conns) })

    // The review's attack: 25 keep-alive connections from 127.0.0.1, one authenticated ping each.
    const answers: RawAnswer[] = []
    for (let i = 0; i < 25; i++) {
      const c = await open(gw.port, '127.0.0.1')
      conns.push(c)
      answers.push(await exchange(c, '/_ping', tokenA))
    }
    await sleep(SETTLE_MS)
    const held = conns.filter(c => !c.isClosed())
    t.equal(held.length, PER_PRINCIPAL, `A holds ${PER_PRINCIPAL} of its 25 connections`)
    t.same(held, conns.slice(0, PER_PRINCIPAL), 'the first ones')
    t.ok(answers.slice(0, PER_PRINCIPAL).every(a => a.status === 200 && a.body === 'OK'), 'each answered by the daemon')
    const refused = answers.slice(PER_PRINCIPAL)
    t.ok(refused.every(a => a.status === 429), `the other ${refused.length}: 429`)
    t.ok(refused.every(a => /\r\nconnection: close\r\n/i.test(`${a.head}\r\n`)), 'with Connection: close')
    t.ok(refused.every(a => /^\{"message":"too many open connections: at most 5 per principal[^"]*"\}$/.test(a.body)), 'in Docker\'s error shape')
    t.ok(conns.slice(PER_PRINCIPAL).every(c => c.isClosed()), 'and each of those connections is closed by the gateway')

    // The cap is per principal, not per address.
    const elsewhere = await open(gw.port, '127.0.0.2')
    conns.push(elsewhere)
    t.equal((await exchange(elsewhere, '/_ping', tokenA)).status, 429, 'A from another address: 429 as well')

    // B, from the address A uses and from another one, on keep-alive connections.
    for (const address of ['127.0.0.1', '127.0.0.2']) {
      const c = await open(gw.port, address)
      conns.push(c)
      const answer = await exchange(c, '/version', tokenB)
      t.equal(answer.status, 200, `B from ${address} is served while A holds its maximum`)
      t.match(JSON.parse(answer.body), { Version: version.Version, GitCommit: version.GitCommit }, 'with the daemon\'s own /version')
      t.equal((await exchange(c, '/_ping', tokenB)).body, 'OK', 'and its connection stays usable')
    }

    // A's own connections keep working: a connection it owns is not counted twice.
    for (const c of held) t.equal((await exchange(c, '/_ping', tokenA)).status, 200, 'A\'s held connection serves another request')

    const denied = gw.audit().filter(l => l.status === 429)
    t.equal(denied.length, 21, 'each refusal has its audit line')
    t.ok(denied.every(l => l.decision === 'deny' && l.reason === 'limit: connections per principal' && l.principal === `a-${run}`), 'naming the limit and the principal')
    const lines = gw.log().filter(l => l.limit === 'connectionsPerPrincipal')
    t.equal(lines.length, 1, 'one log line for 21 refusals')
    t.match(lines[0], { level: 40, principal: `a-${run}`, max: PER_PRINCIPAL, msg: /limits\.connectionsPerPrincipal = 5/ })

    // A closes its connections: its slots are free again.
    destroyAll(held)
    const again = await waitFor(async () => {
      const c = await open(gw.port, '127.0.0.1')
      const a = await exchange(c, '/_ping', tokenA)
      if (a.status === 200) { conns.push(c); return c }
      c.socket.destroy()
      return undefined
    }, 3000)
    t.ok(again !== undefined, 'after A closed its connections, A is served again')
    for (let i = 1; i < PER_PRINCIPAL; i++) {
      const c = await open(gw.port, '127.0.0.1')
      conns.push(c)
      t.equal((await exchange(c, '/_ping', tokenA)).status, 200, `A's connection ${i + 1} of ${PER_PRINCIPAL} again`)
    }
    const over = await open(gw.port, '127.0.0.1')
    conns.push(over)
    t.equal((await exchange(over, '/_ping', tokenA)).status, 429, 'and is at its cap again')
  })

  t.test('near the total cap, idle keep-alive connections give way to a new client', async t => {
    // Total 10 (one slot kept free): A holds its 5 authenticated connections and 5 unauthenticated
    // ones from its address, the most both caps allow it, and would fill the gateway.
    const gw = await startWatchedGateway(t, { ...env, GATEWAY_MAX_CONNECTIONS: '10' })
    const tokenA = gw.token(`a-${run}`, 'containers:read')
    const tokenB = gw.token(`b-${run}`, 'containers:read')
    const version = await daemonVersion()
    const idle: Conn[] = []
    const pending: Conn[] = []
    t.teardown(() => { destroyAll([...idle, ...pending]) })
    for (let i = 0; i < PER_PRINCIPAL; i++) {
      const c = await open(gw.port, '127.0.0.1')
      idle.push(c)
      t.equal((await exchange(c, '/_ping', tokenA)).status, 200, `A's authenticated connection ${i + 1}`)
      await sleep(20) // distinct idle times
    }
    for (let i = 0; i < PER_ADDRESS; i++) pending.push(await open(gw.port, '127.0.0.1'))
    await sleep(SETTLE_MS)
    t.ok(pending.every(c => !c.isClosed()), 'A\'s unauthenticated connections are admitted (within the header deadline)')
    t.equal(idle.filter(c => c.isClosed()).length, 1, 'the tenth connection made room: one idle connection closed')
    t.ok(idle[0]?.isClosed(), 'the one idle longest')

    const b = await open(gw.port, '127.0.0.2')
    const answer = await exchange(b, '/version', tokenB)
    b.socket.destroy()
    t.equal(answer.status, 200, 'B is served while A holds its maximum')
    t.match(JSON.parse(answer.body), { Version: version.Version, GitCommit: version.GitCommit }, 'with the daemon\'s own /version')
    await sleep(SETTLE_MS)
    t.same(idle.map(c => c.isClosed()), [true, true, false, false, false], 'B\'s connection took the next idle one, longest idle first')
    t.ok(pending.every(c => !c.isClosed()), 'connections that never finished a request are left to the header deadline')
    t.match(gw.log().find(l => l.limit === 'idleReclaimed'), { level: 40, max: 10, msg: /near limits\.maxConnections = 10/ }, 'logged')
  })

  t.test('a keep-alive connection that became a hijacked stream is not idle', async t => {
    // Docker's Go client may send attach or exec start on an idle keep-alive connection.
    const label = testLabel(__filename)
    t.teardown(async () => { await cleanupLabel(label) })
    const gw = await startWatchedGateway(t, { ...env, GATEWAY_MAX_CONNECTIONS: '10' })
    const token = gw.token(`c-${run}`)
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const created = await request(`${gw.url}/containers/create`, { method: 'POST', headers: auth, body: JSON.stringify({ Image: d.image, Cmd: ['sleep', '300'], Labels: label.labels }) })
    t.equal(created.statusCode, 201)
    const id = (await created.body.json() as { Id: string }).Id
    t.equal((await request(`${gw.url}/containers/${id}/start`, { method: 'POST', headers: auth })).statusCode, 204)
    const exec = await request(`${gw.url}/containers/${id}/exec`, { method: 'POST', headers: auth, body: JSON.stringify({ Cmd: ['sh', '-c', 'echo started; sleep 30'], AttachStdout: true }) })
    const execId = (await exec.body.json() as { Id: string }).Id

    const conns: Conn[] = []
    t.teardown(() => { destroyAll(conns) })
    const stream = await open(gw.port, '127.0.0.1')
    conns.push(stream)
    t.equal((await exchange(stream, '/_ping', token)).status, 200, 'a keep-alive request first: the connection is idle')
    const body = JSON.stringify({ Detach: false, Tty: false })
    const before = stream.received().length
    stream.socket.write(requestHead('POST', `/exec/${execId}/start`, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': body.length, Connection: 'Upgrade', Upgrade: 'tcp' }) + body)
    await waitFor(() => stream.received().slice(before).includes('started'), 10_000)
    t.match(stream.received().slice(before), /^HTTP\/1\.1 101 /, 'then exec start on it: upgraded, the command runs')

    // Fill the gateway with connections that never send a request: 9 more of 10.
    for (const address of ['127.0.0.2', '127.0.0.3']) {
      for (let i = 0; i < 5 && conns.length < 10; i++) conns.push(await open(gw.port, address))
    }
    await sleep(SETTLE_MS)
    t.notOk(stream.isClosed(), 'the gateway is near its cap and the stream is kept: it carries an exec')
    const inspect = await docker<{ Running: boolean }>(`/exec/${execId}/json`)
    t.equal(inspect.body.Running, true, 'the exec still runs on the daemon')
  })
}
