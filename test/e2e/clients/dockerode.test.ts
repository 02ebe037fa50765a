// dockerode (npm, dev dependency) through the gateway over HTTPS with a test
// CA, configured only by {protocol, host, port, ca, headers: {Authorization}}.
// It runs in the test process: every call is asynchronous.
import { readFile } from 'node:fs/promises'
import { PassThrough } from 'node:stream'
import Docker from 'dockerode'
import t from 'tap'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { demux } from '../../helpers/tar'
import { waitFor } from '../../helpers/wait'
import { startClientGateway } from '../../helpers/clients/clients'

const d = requireDaemon(t)
const label = testLabel(__filename)

const collect = async (stream: NodeJS.ReadableStream): Promise<Buffer> => {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
}

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('dockerode through the gateway over HTTPS', async t => {
    const sub = `node-${label.value}`
    const { ca, gw, token } = await startClientGateway(t, d, sub)
    const client = new Docker({
      protocol: 'https',
      host: '127.0.0.1',
      port: gw.port,
      ca: await readFile(ca.ca),
      headers: { Authorization: `Bearer ${token}` }
    })
    const running = async (id: string): Promise<boolean> => (await docker<{ State: { Running: boolean } }>(`/containers/${id}/json`)).body.State.Running

    t.test('listContainers: a new principal owns none', async t => {
      t.same(await client.listContainers({ all: true }), [])
    })

    let container: Docker.Container | undefined
    t.test('createContainer + start, then listContainers shows it', async t => {
      container = await client.createContainer({
        Image: d.image,
        Cmd: ['sh', '-c', 'echo hello; echo oops >&2; exec sleep 300'],
        Labels: label.labels
      })
      t.match(container.id, /^[0-9a-f]{64}$/)
      await container.start()
      t.equal(await running(container.id), true)
      const listed = await client.listContainers()
      t.same(listed.map(c => c.Id), [container.id])
      t.equal(listed[0]?.Labels['docker-gateway.owner'], sub, 'labelled with its owner by the gateway')
    })

    t.test('logs: stdout and stderr frames', async t => {
      const c = container as Docker.Container
      const logs = await waitFor(async () => {
        const buf = await c.logs({ stdout: true, stderr: true })
        const out = demux(buf)
        return out.stdout !== '' && out.stderr !== '' ? out : undefined
      }, 20_000)
      t.equal(logs.stdout, 'hello\n')
      t.equal(logs.stderr, 'oops\n')
    })

    t.test('stats({ stream: false })', async t => {
      const stats = await (container as Docker.Container).stats({ stream: false }) as unknown as { id: string, memory_stats: unknown, pids_stats: { current?: number } }
      t.equal(stats.id, container?.id)
      t.ok(stats.memory_stats !== undefined, 'memory_stats present')
      t.equal(stats.pids_stats.current, 1, 'one process: sleep')
    })

    t.test('exec with hijack: stdin round trip, then the stream ends', async t => {
      const c = container as Docker.Container
      const exec = await c.exec({ Cmd: ['sh', '-c', 'cat; echo after-eof'], AttachStdin: true, AttachStdout: true, AttachStderr: true })
      const started = Date.now()
      const stream = await exec.start({ hijack: true, stdin: true })
      const output = collect(stream)
      // cat ends only when the half-close of stdin reaches it through the gateway
      stream.end('round trip\n')
      const frames = demux(await output)
      t.equal(frames.stdout, 'round trip\nafter-eof\n')
      t.ok(Date.now() - started < 20_000, `ended after ${Date.now() - started} ms`)
      const info = await exec.inspect()
      t.equal(info.ExitCode, 0)
      t.equal(info.Running, false)
    })

    t.test('stop({ t: 1 })', async t => {
      const c = container as Docker.Container
      await c.stop({ t: 1 })
      t.equal(await running(c.id), false)
    })

    t.test('remove', async t => {
      const c = container as Docker.Container
      await c.remove()
      t.equal((await docker(`/containers/${c.id}/json`)).status, 404)
    })

    t.test('attached run: createContainer, attach, start, wait({ condition })', async t => {
      const c = await client.createContainer({ Image: d.image, Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], Labels: label.labels })
      // docker-modem sends these options twice: as the query and as a JSON body
      const stream = await c.attach({ stream: true, stdout: true, stderr: true })
      const output = collect(stream)
      await c.start()
      const result = await c.wait({ condition: 'not-running' }) as { StatusCode: number }
      t.equal(result.StatusCode, 3)
      t.same(demux(await output), { stdout: 'out\n', stderr: 'err\n' })
      await c.remove({ force: true })
    })

    t.test('attach with hijack and stdin: the container reads until the half-close', async t => {
      const c = await client.createContainer({
        Image: d.image,
        Cmd: ['sh', '-c', 'cat; echo after-eof'],
        OpenStdin: true,
        StdinOnce: true,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Labels: label.labels
      })
      const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })
      const output = collect(stream)
      await c.start()
      const started = Date.now()
      stream.end('to the container\n')
      t.same(demux(await output), { stdout: 'to the container\nafter-eof\n', stderr: '' })
      t.ok(Date.now() - started < 20_000, `ended after ${Date.now() - started} ms`)
      t.equal(((await c.wait()) as { StatusCode: number }).StatusCode, 0)
      await c.remove({ force: true })
    })

    t.test('kill, restart, rename with options (sent as query and JSON body)', async t => {
      const c = await client.createContainer({ Image: d.image, Cmd: ['sleep', '300'], Labels: label.labels })
      await c.start()
      await c.kill({ signal: 'SIGKILL' })
      t.equal(await running(c.id), false, 'killed')
      await c.restart({ t: 1 })
      t.equal(await running(c.id), true, 'restarted')
      await c.rename({ name: `${label.value}-renamed` })
      t.equal((await c.inspect()).Name, `/${label.value}-renamed`)
      await c.remove({ force: true })
    })

    t.test('docker.run(image, cmd, stream) with its default create options', async t => {
      // dockerode's run() sends {"Tty": true, "Volumes": {}, "VolumesFrom": [], ...}
      const out = new PassThrough()
      const output = collect(out)
      const [result, c] = await client.run(d.image, ['echo', 'hi'], out, { Labels: label.labels }) as [{ StatusCode: number }, Docker.Container]
      out.end()
      t.equal(result.StatusCode, 0)
      t.equal((await output).toString(), 'hi\r\n', 'the attached output (a TTY: CRLF)')
      await c.remove()
    })
  })
}
