import t from 'tap'
import { WebSocket } from 'undici'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startUpgradeGateway } from '../../helpers/upgrade/gateway'

const d = requireDaemon(t)
const label = testLabel(__filename)

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('GET /containers/{id}/attach/ws (Upgrade: websocket) through the gateway: stdin in, stdout out', async t => {
    const gw = await startUpgradeGateway(t)
    const id = await gw.create({ Image: d.image, Labels: label.labels, Cmd: ['cat'], OpenStdin: true, AttachStdin: true, AttachStdout: true })
    // undici's WebSocket takes extra handshake headers (its own extension of the WHATWG init).
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/containers/${id}/attach/ws?stream=1&stdin=1&stdout=1`, { headers: gw.headers } as unknown as string[])
    ws.binaryType = 'arraybuffer'
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve())
      ws.addEventListener('error', () => reject(new Error('websocket failed to open')))
    })
    let received = ''
    const got = new Promise<void>((resolve) => {
      ws.addEventListener('message', (event) => {
        received += typeof event.data === 'string' ? event.data : Buffer.from(event.data as ArrayBuffer).toString()
        if (received.includes('over websocket\n')) resolve()
      })
    })
    ws.send('over websocket\n')
    await got
    t.equal(received, 'over websocket\n', 'cat echoed stdin (not multiplexed: attach/ws never is)')
    const closed = new Promise((resolve) => ws.addEventListener('close', resolve))
    ws.close()
    await closed
    const [line] = await gw.settled(1)
    t.match(line, { route: 'GET /containers/:id/attach/ws', status: 101, decision: 'allow', principal: 'upgrade-tests' })
  })

  t.test('without a token the websocket handshake is refused', async t => {
    const gw = await startUpgradeGateway(t)
    const id = await gw.create({ Image: d.image, Labels: label.labels, Cmd: ['cat'], OpenStdin: true, AttachStdin: true, AttachStdout: true })
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/containers/${id}/attach/ws?stream=1&stdin=1&stdout=1`)
    const outcome = await new Promise<string>((resolve) => {
      ws.addEventListener('open', () => resolve('open'))
      ws.addEventListener('error', () => resolve('error'))
    })
    t.equal(outcome, 'error')
    t.match(gw.audit.find(l => l.route === undefined || l.route === 'GET /containers/:id/attach/ws'), { status: 401, decision: 'deny' })
  })
}
