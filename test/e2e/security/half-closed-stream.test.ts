import crypto from 'node:crypto'
import net from 'node:net'
import t from 'tap'
import { request } from 'undici'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { sleep, waitFor } from '../../helpers/wait'
import { startWatchedGateway, type WatchedGateway } from '../../helpers/security/gateway-app'
import { ownSocketsTo, peerOf, type TcpEntry } from '../../helpers/security/tcp-table'

/**
 * Issue 10 finding 9: a client that half-closes an attach/exec stream (its
 * FIN, as the docker CLI sends after stdin EOF) and then goes silent, with a
 * process that neither reads stdin nor writes, pinned the gateway's socket
 * and the daemon's until the gateway exited. With limits.streamIdleTimeoutMs
 * the gateway closes both sides after that much silence in both directions,
 * logs it once and records it in the stream's audit line; a stream that
 * still carries bytes is left alone.
 */
const IDLE_MS = 1500
const d = requireDaemon(t)

interface Stream {
  socket: net.Socket
  received: () => string
  closed: Promise<number>
}

async function execStream (gw: WatchedGateway, token: string, execId: string): Promise<Stream> {
  const socket = net.connect({ port: gw.port, host: '127.0.0.1', allowHalfOpen: true })
  let text = ''
  socket.on('data', (b: Buffer) => { text += b.toString('latin1') })
  socket.on('error', () => {})
  const closed = new Promise<number>(resolve => socket.on('close', () => { resolve(Date.now()) }))
  await new Promise(resolve => socket.on('connect', resolve))
  const body = JSON.stringify({ Detach: false, Tty: false })
  socket.write(`POST /exec/${execId}/start HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n${body}`)
  await waitFor(() => text.includes('\r\n\r\n'), 10_000)
  if (!text.startsWith('HTTP/1.1 101')) throw new Error(`exec start answered ${text.slice(0, 200)}`)
  return { socket, received: () => text, closed }
}

if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('a half-closed, silent exec stream is closed on both sides after the idle timeout', async t => {
    const daemonPort = d.port
    if (daemonPort === null) { t.fail(`the daemon ${d.url} has no TCP port to follow connections on`); return }
    const gw = await startWatchedGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_STREAM_IDLE_TIMEOUT: String(IDLE_MS) })
    const token = gw.token(`half-${crypto.randomBytes(3).toString('hex')}`)
    const call = async (method: 'GET' | 'POST', path: string, json?: unknown): Promise<any> => {
      const res = await request(gw.url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: json !== undefined ? JSON.stringify(json) : undefined
      })
      const text = await res.body.text()
      if (res.statusCode >= 300) throw new Error(`${method} ${path} answered ${res.statusCode} ${text}`)
      return text === '' ? undefined : JSON.parse(text)
    }
    const { Id: container } = await call('POST', '/containers/create', { Image: d.image, Cmd: ['sleep', '300'], Labels: label.labels })
    await call('POST', `/containers/${container as string}/start`)
    const exec = async (cmd: string[]): Promise<string> => (await call('POST', `/containers/${container as string}/exec`, { Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true })).Id
    // Silent: reads no stdin, writes nothing. Talking: a line every 300 ms.
    const silentExec = await exec(['sleep', '300'])
    const talkingExec = await exec(['sh', '-c', 'while true; do echo tick; sleep 0.3; done'])

    const before = new Set(ownSocketsTo(daemonPort).map(e => e.inode))
    const silent = await execStream(gw, token, silentExec)
    const talking = await execStream(gw, token, talkingExec)
    const halfClosedAt = Date.now()
    silent.socket.end()
    talking.socket.end()

    // The silent stream's daemon connection: new, and half-closed by the gateway (FIN_WAIT2)
    // once it passed the client's FIN on; the daemon's end waits in CLOSE_WAIT.
    const halfClosed = await waitFor(() => {
      const fresh = ownSocketsTo(daemonPort).filter(e => !before.has(e.inode) && e.state === 'FIN_WAIT2')
      return fresh.length === 2 ? fresh : undefined
    }, 5000)
    t.equal(halfClosed.length, 2, 'both streams passed the client\'s half-close on to the daemon')
    const peers = halfClosed.map(e => peerOf(daemonPort, e.localPort))
    t.ok(peers.every(p => p?.state === 'CLOSE_WAIT'), 'the daemon holds both connections open (CLOSE_WAIT)')

    const silentClosedAt = await Promise.race([silent.closed, sleep(IDLE_MS + 5000).then(() => 0)])
    if (silentClosedAt === 0) { t.fail(`the gateway did not close the silent stream within ${IDLE_MS + 5000} ms of the half-close`); return }
    t.ok(silentClosedAt - halfClosedAt >= IDLE_MS - 200, `the gateway closed the silent stream's client connection, not before the idle timeout (after ${silentClosedAt - halfClosedAt} ms)`)

    // Exactly one of the two daemon connections is gone, on the gateway's side and the daemon's.
    const gone = (e: TcpEntry): boolean => !ownSocketsTo(daemonPort).some(o => o.inode === e.inode)
    await waitFor(() => halfClosed.filter(gone).length === 1, 5000)
    const [closedConn] = halfClosed.filter(gone)
    const [keptConn] = halfClosed.filter(e => !gone(e))
    await waitFor(() => {
      const p = peerOf(daemonPort, (closedConn as TcpEntry).localPort)
      return p === undefined || (p.state !== 'CLOSE_WAIT' && p.state !== 'ESTABLISHED')
    }, 5000)
    t.pass('the daemon\'s end of the silent stream is closed too')
    t.equal(ownSocketsTo(daemonPort).filter(e => !before.has(e.inode) && e.state !== 'ESTABLISHED').length, 1,
      'of the gateway\'s half-closed daemon connections only the talking stream\'s is left')

    // The talking stream keeps going well past the idle timeout: bytes reset it.
    const ticks = (): number => (talking.received().match(/tick/g) ?? []).length
    const ticksThen = ticks()
    await sleep(IDLE_MS)
    t.ok(ticks() > ticksThen, 'the talking stream still receives output')
    t.notOk(talking.socket.closed, 'and is still open')
    t.ok(ownSocketsTo(daemonPort).some(e => e.inode === keptConn?.inode), 'with its daemon connection')
    talking.socket.destroy()
    await waitFor(() => !ownSocketsTo(daemonPort).some(e => e.inode === keptConn?.inode), 5000)

    const line = await waitFor(() => gw.audit().find(l => l.route === 'POST /exec/:exec/start' && typeof l.reason === 'string' && /idle/.test(l.reason)), 5000)
    t.equal(line.status, 101, 'the audit line of the silent stream: 101, with the reason it ended')
    t.match(line.reason, `idle for ${IDLE_MS} ms`, 'the reason names the idle timeout')
    t.equal(gw.log().filter(l => l.limit === 'streamIdleTimeoutMs').length, 1, 'one log line for the idle timeout')
  })
}
