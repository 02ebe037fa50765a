import net from 'node:net'
import Docker from 'dockerode'
import t from 'tap'
import { cleanupLabel, docker, testLabel } from '../helpers/docker'
import { requireDaemon } from '../helpers/env'
import { countDaemonConnections } from '../helpers/net'
import { waitFor } from '../helpers/wait'
import { startUpgradeApp } from './fixtures/upgrade-app'

const d = requireDaemon(t)
const label = testLabel(__filename)

/** Write raw bytes to the app and return everything it sends until it closes the connection. */
async function exchange (port: number, raw: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  socket.write(raw)
  let text = ''
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1') })
  await new Promise<void>((resolve, reject) => {
    socket.on('close', () => { resolve() })
    socket.on('error', reject)
    socket.setTimeout(20_000, () => { reject(new Error(`no close; got ${JSON.stringify(text)}`)) })
  })
  return text
}

function parse (text: string): { status: number, headers: string, body: string } {
  const end = text.indexOf('\r\n\r\n')
  const head = text.slice(0, end)
  return { status: Number(head.split(' ')[1]), headers: head, body: text.slice(end + 4) }
}

const upgradeHeaders = 'Host: gw\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n'

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  // dockerd (20.10, and still at HEAD) hijacks attach before it looks the container up, so its
  // 404 is written raw on the connection: plain text, no length, then close
  // (daemon/server/router/container/container_routes.go postContainersAttach).
  t.test('attach to a container that does not exist: the daemon\'s 404 reaches the client, then the connection closes', async t => {
    const gw = await startUpgradeApp(t)
    const text = await exchange(gw.port, `POST /containers/no-such-dgw-container/attach?stream=1&stdout=1 HTTP/1.1\r\n${upgradeHeaders}\r\n`)
    const res = parse(text)
    t.equal(res.status, 404)
    t.match(res.headers, /\r\nConnection: close/i)
    t.equal(res.body, 'No such container: no-such-dgw-container\r\n')
    const [record] = await gw.settled(1)
    t.equal(record?.status, 404)
  })

  t.test('dockerode shows the daemon\'s message for a hijacked attach that is refused', async t => {
    const gw = await startUpgradeApp(t)
    const client = new Docker({ host: '127.0.0.1', port: gw.port })
    const err = await client.getContainer('no-such-dgw-container').attach({ stream: true, stdout: true, hijack: true }).then(() => undefined, (e: unknown) => e)
    t.match(err, { statusCode: 404, message: /No such container: no-such-dgw-container/ })
  })

  // Exec start checks the exec id before it hijacks: an ordinary JSON error with a length.
  t.test('exec start for an exec the daemon dropped: its JSON 404 is relayed as a normal response', async t => {
    const created = await docker<{ Id: string }>('/containers/create', { json: { Image: d.image, Labels: label.labels, Cmd: ['sleep', '300'] } })
    const id = created.body.Id
    t.equal((await docker(`/containers/${id}/start`, { method: 'POST' })).status, 204)
    const exec = await docker<{ Id: string }>(`/containers/${id}/exec`, { json: { Cmd: ['true'], AttachStdout: true } })
    t.equal(exec.status, 201)
    t.equal((await docker(`/containers/${id}/kill`, { method: 'POST' })).status, 204)
    const gw = await startUpgradeApp(t)
    const body = '{"Detach":false,"Tty":false}'
    const text = await exchange(gw.port, `POST /exec/${exec.body.Id}/start HTTP/1.1\r\n${upgradeHeaders}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
    const res = parse(text)
    t.equal(res.status, 404)
    t.match(res.headers, /\r\nContent-Type: application\/json/i)
    t.match(res.headers, /\r\nContent-Length: \d+/i)
    t.same(JSON.parse(res.body), { message: `No such exec instance: ${exec.body.Id}` })
    // The daemon keeps that connection alive; the gateway must close it, not leave it idle.
    if (d.port !== null) {
      const port = d.port
      await waitFor(() => countDaemonConnections(port) === 0, 5000)
      t.pass('no daemon connection left open')
    }
  })

  // Bytes after an upgrade request belong to the new protocol; if they were written to the
  // daemon before it said 101, a refused upgrade would leave them to be read as the next request
  // on a keep-alive connection, past every check of the gateway. Exec start refuses an unknown
  // exec id with an ordinary keep-alive response, so the daemon would read on.
  t.test('bytes sent after a refused upgrade request never reach the daemon as a request', async t => {
    const gw = await startUpgradeApp(t)
    const name = `dgw-smuggled-${label.value}`
    const create = JSON.stringify({ Image: d.image, Labels: label.labels, Cmd: ['true'] })
    const smuggled = `POST /containers/create?name=${name} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${create.length}\r\n\r\n${create}`
    const body = '{"Detach":false,"Tty":false}'
    const text = await exchange(gw.port, `POST /exec/no-such-dgw-exec/start HTTP/1.1\r\n${upgradeHeaders}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}${smuggled}`)
    t.equal(parse(text).status, 404)
    t.equal(text.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, 'exactly one response')
    t.equal((await docker(`/containers/${name}/json`)).status, 404, 'the smuggled create never ran')
  })
}
