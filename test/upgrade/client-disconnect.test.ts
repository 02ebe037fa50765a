import { spawn } from 'node:child_process'
import Docker from 'dockerode'
import t from 'tap'
import { cleanupLabel, docker, testLabel } from '../helpers/docker'
import { requireDaemon } from '../helpers/env'
import { countDaemonConnections } from '../helpers/net'
import { waitFor } from '../helpers/wait'
import { startUpgradeApp } from './fixtures/upgrade-app'

const d = requireDaemon(t)
const label = testLabel(__filename)
const TICKER = ['sh', '-c', 'while true; do echo tick; sleep 0.2; done']

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('a client that disconnects mid-stream leaves no daemon connection open', async t => {
    const port = d.port
    if (port === null) { t.fail(`the daemon ${d.url} has no TCP port to count connections on`); return }
    const created = await docker<{ Id: string }>('/containers/create', { json: { Image: d.image, Labels: label.labels, Cmd: ['sleep', '300'] } })
    const container = created.body.Id
    t.equal((await docker(`/containers/${container}/start`, { method: 'POST' })).status, 204)
    const gw = await startUpgradeApp(t)
    await waitFor(() => countDaemonConnections(port) === 0, 10_000)

    t.test('dockerode destroys its hijacked exec stream', async t => {
      const client = new Docker({ host: '127.0.0.1', port: gw.port })
      const exec = await client.getContainer(container).exec({ Cmd: TICKER, AttachStdout: true, AttachStdin: true })
      const stream = await exec.start({ hijack: true, stdin: true })
      await new Promise((resolve) => stream.once('data', resolve))
      t.equal(countDaemonConnections(port), 1, 'one upgraded connection to the daemon while streaming')
      stream.destroy()
      await waitFor(() => countDaemonConnections(port) === 0, 5000)
      t.pass('the daemon connection was closed')
      const [record] = await gw.settled(1)
      t.equal(record?.status, 101)
      t.ok((record?.result?.bytesOut ?? 0) > 0)
    })

    t.test('the docker CLI is killed during docker exec', async t => {
      const before = gw.upgrades.length
      // -i with stdin left open: without it the CLI half-closes at once, our daemon socket goes
      // to FIN_WAIT2 and is no longer counted as ESTABLISHED while it streams.
      const child = spawn('docker', ['exec', '-i', container, ...TICKER], { env: { ...process.env, DOCKER_HOST: gw.host, DOCKER_CONFIG: '/nonexistent-dgw', DOCKER_CERT_PATH: '', DOCKER_TLS_VERIFY: '' } })
      await new Promise((resolve) => child.stdout.once('data', resolve))
      t.equal(countDaemonConnections(port), 1, 'one upgraded connection to the daemon while streaming')
      child.kill('SIGKILL')
      await waitFor(() => countDaemonConnections(port) === 0, 5000)
      t.pass('the daemon connection was closed')
      await gw.settled(before + 1)
    })
  })
}
