import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Docker from 'dockerode'
import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { countDaemonConnections } from '../../helpers/net'
import { waitFor } from '../../helpers/wait'
import { requestHead } from '../../helpers/security/raw-http'
import { added, daemonSockets } from '../../helpers/security/daemon-sockets'

/**
 * Disconnect cleanup on the real gateway (issue 10: proven only on the
 * stand-in app before): a client that goes away in the middle of an attach,
 * an attach/ws or an exec stream leaves no daemon connection open. For the
 * raw clients the very connection the upgrade opened to the daemon is
 * followed (by its local port) until it closes; for dockerode and the docker
 * CLI, which make other calls first, the count of daemon connections returns
 * to its baseline.
 */
const d = requireDaemon(t)
const TICKER = ['sh', '-c', 'while true; do echo tick; sleep 0.2; done']

if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('a client that disconnects mid-stream leaves no daemon connection open', async t => {
    const port = d.port
    if (port === null) { t.fail(`the daemon ${d.url} has no TCP port to count connections on`); return }
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const all = 'containers:read containers:write containers:export containers:exec'
    const token = gw.token({ sub: `owner-${crypto.randomBytes(3).toString('hex')}`, scope: all })
    const auth = { authorization: `Bearer ${token}` }
    const post = async (p: string, json: unknown): Promise<any> => {
      const res = await request(gw.url + p, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(json) })
      const text = await res.body.text()
      if (res.statusCode >= 300) throw new Error(`${p} answered ${res.statusCode} ${text}`)
      return text !== '' ? JSON.parse(text) : undefined
    }
    const id = (await post('/containers/create', { Image: d.image, Cmd: TICKER, OpenStdin: true, Labels: label.labels })).Id as string
    await post(`/containers/${id}/start`, undefined)
    const sleeper = (await post('/containers/create', { Image: d.image, Cmd: ['sleep', '600'], Labels: label.labels })).Id as string
    await post(`/containers/${sleeper}/start`, undefined)

    /**
     * Open an upgrade on a raw socket, wait for stream data, note the daemon
     * connection it added, destroy the client, and follow that connection.
     */
    const hangUp = async (t: { equal: (a: unknown, b: unknown, m: string) => void, pass: (m: string) => void }, head: string, warm: string): Promise<void> => {
      // The ownership lookup is cached after one call, so the upgrade itself adds exactly one connection.
      await (await request(gw.url + warm, { headers: auth })).body.dump()
      const before = daemonSockets(port)
      const socket = net.connect(gw.port, '127.0.0.1')
      let text = ''
      socket.on('data', (c: Buffer) => { text += c.toString('latin1') })
      socket.on('error', () => {})
      socket.write(head)
      await waitFor(() => /^HTTP\/1\.1 101/.test(text) && text.includes('tick'), 10_000)
      const stream = added(before, daemonSockets(port))
      t.equal(stream.length, 1, 'the upgrade holds one daemon connection of its own')
      socket.destroy()
      await waitFor(() => !daemonSockets(port).has(stream[0] as number), 5000)
      t.pass(`the daemon connection (local port ${stream[0] as number}) was closed`)
    }

    await t.test('attach (Upgrade: tcp)', async t => {
      await hangUp(t, requestHead('POST', `/containers/${id}/attach?stream=1&stdout=1&stdin=1`, { Authorization: `Bearer ${token}`, Connection: 'Upgrade', Upgrade: 'tcp' }), `/containers/${id}/json`)
    })

    await t.test('attach/ws (Upgrade: websocket)', async t => {
      await hangUp(t, requestHead('GET', `/containers/${id}/attach/ws?stream=1&stdout=1`, { Authorization: `Bearer ${token}`, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' }), `/containers/${id}/json`)
    })

    await t.test('exec start (Upgrade: tcp)', async t => {
      const exec = (await post(`/containers/${sleeper}/exec`, { Cmd: TICKER, AttachStdout: true, AttachStdin: true })).Id as string
      const body = '{"Detach":false,"Tty":false}'
      await hangUp(t, requestHead('POST', `/exec/${exec}/start`, { Authorization: `Bearer ${token}`, Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': body.length }) + body, `/exec/${exec}/json`)
    })

    // Clients that make other calls first: the count returns to its baseline.
    const baselineAfterWarmUp = async (): Promise<number> => {
      await (await request(`${gw.url}/containers/${sleeper}/json`, { headers: auth })).body.dump()
      return countDaemonConnections(port)
    }

    await t.test('dockerode destroys its hijacked exec stream', async t => {
      const client = new Docker({ host: '127.0.0.1', port: gw.port, headers: auth } as Docker.DockerOptions)
      const baseline = await baselineAfterWarmUp()
      const exec = await client.getContainer(sleeper).exec({ Cmd: TICKER, AttachStdout: true, AttachStdin: true })
      const stream = await exec.start({ hijack: true, stdin: true })
      await new Promise((resolve) => stream.once('data', resolve))
      const during = countDaemonConnections(port)
      t.ok(during > baseline, 'the stream holds a daemon connection')
      stream.destroy()
      await waitFor(() => countDaemonConnections(port) <= baseline, 5000)
      t.ok(countDaemonConnections(port) < during, 'and it was closed')
    })

    await t.test('the docker CLI is killed during docker exec -i', async t => {
      const dir = await mkdtemp(path.join(tmpdir(), 'dgw-disconnect-cli-'))
      t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
      await writeFile(path.join(dir, 'config.json'), JSON.stringify({ HttpHeaders: { Authorization: `Bearer ${token}` } }), { mode: 0o600 })
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, DOCKER_HOST: `tcp://127.0.0.1:${gw.port}`, DOCKER_CONFIG: dir }
      const baseline = await baselineAfterWarmUp()
      // -i with stdin left open: without it the CLI half-closes at once, the daemon socket goes
      // to FIN_WAIT2 and is no longer counted as ESTABLISHED while it streams.
      const child = spawn('docker', ['exec', '-i', sleeper, ...TICKER], { env })
      let err = ''
      child.stderr.on('data', (c: Buffer) => { err += c.toString() })
      await Promise.race([
        new Promise((resolve) => child.stdout.once('data', resolve)),
        new Promise((resolve, reject) => child.once('exit', () => { reject(new Error(`docker exec exited: ${err}`)) }))
      ])
      const during = countDaemonConnections(port)
      t.ok(during > baseline, 'the stream holds a daemon connection')
      child.kill('SIGKILL')
      await waitFor(() => countDaemonConnections(port) <= baseline, 5000)
      t.ok(countDaemonConnections(port) < during, 'and it was closed')
    })

    await t.test('the gateway still serves, and the containers are unharmed', async t => {
      const res = await request(`${gw.url}/containers/${id}/json`, { headers: auth })
      t.equal(res.statusCode, 200)
      t.equal((await res.body.json() as { State: { Running: boolean } }).State.Running, true)
    })
  })
}
