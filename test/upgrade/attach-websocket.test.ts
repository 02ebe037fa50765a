import t from 'tap'
import { WebSocket } from 'undici'
import { cleanupLabel, docker, testLabel } from '../helpers/docker'
import { requireDaemon } from '../helpers/env'
import { startUpgradeApp } from './fixtures/upgrade-app'

const d = requireDaemon(t)
const label = testLabel(__filename)

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('GET /containers/{id}/attach/ws (Upgrade: websocket) is passed through: stdin in, stdout out', async t => {
    const created = await docker<{ Id: string }>('/containers/create', {
      json: { Image: d.image, Labels: label.labels, Cmd: ['cat'], OpenStdin: true, AttachStdin: true, AttachStdout: true }
    })
    const id = created.body.Id
    t.equal((await docker(`/containers/${id}/start`, { method: 'POST' })).status, 204)
    const gw = await startUpgradeApp(t)
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/containers/${id}/attach/ws?stream=1&stdin=1&stdout=1`)
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
    const [record] = await gw.settled(1)
    t.equal(record?.route, '/containers/:id/attach/ws')
    t.equal(record?.status, 101)
  })
}
