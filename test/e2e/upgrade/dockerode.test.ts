import { PassThrough } from 'node:stream'
import Docker from 'dockerode'
import t from 'tap'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startUpgradeGateway } from '../../helpers/upgrade/gateway'

const d = requireDaemon(t)
const label = testLabel(__filename)

async function collect (stream: NodeJS.ReadableStream, docker: Docker): Promise<{ stdout: string, stderr: string }> {
  const out = new PassThrough()
  const err = new PassThrough()
  let stdout = ''
  let stderr = ''
  out.on('data', (d: Buffer) => { stdout += d.toString() })
  err.on('data', (d: Buffer) => { stderr += d.toString() })
  docker.modem.demuxStream(stream, out, err)
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve)
    stream.on('error', reject)
  })
  return { stdout, stderr }
}

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('dockerode: exec with hijack + stdin round-trips through the upgrade', async t => {
    const gw = await startUpgradeGateway(t)
    const docker = new Docker({ host: '127.0.0.1', port: gw.port, headers: gw.headers } as Docker.DockerOptions)
    const container = await docker.createContainer({ Image: d.image, Cmd: ['sleep', '300'], Labels: label.labels })
    t.teardown(async () => { await container.remove({ force: true }).catch(() => {}) })
    await container.start()

    const exec = await container.exec({ Cmd: ['sh', '-c', 'cat; echo done >&2'], AttachStdin: true, AttachStdout: true, AttachStderr: true })
    const stream = await exec.start({ hijack: true, stdin: true })
    const output = collect(stream, docker)
    stream.write('hello from dockerode\n')
    // dockerode's hijacked stream is the socket: end() is the half-close that ends cat's stdin.
    stream.end()
    const { stdout, stderr } = await output
    t.equal(stdout, 'hello from dockerode\n')
    t.equal(stderr, 'done\n')
    const inspect = await exec.inspect()
    t.equal(inspect.ExitCode, 0)
    t.equal(inspect.Running, false)

    const [start] = (await gw.settled(1)).filter((r) => r.route === 'POST /exec/:exec/start')
    // dockerode's JSON body ({ hijack, stdin, Detach, Tty }) passed the exec start policy.
    t.match(start, { status: 101, decision: 'allow' })
  })

  t.test('dockerode: attach with hijack + stdin to a running container', async t => {
    const gw = await startUpgradeGateway(t)
    const docker = new Docker({ host: '127.0.0.1', port: gw.port, headers: gw.headers } as Docker.DockerOptions)
    const container = await docker.createContainer({
      Image: d.image, Cmd: ['cat'], OpenStdin: true, StdinOnce: true, Labels: label.labels
    })
    t.teardown(async () => { await container.remove({ force: true }).catch(() => {}) })
    const stream = await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })
    await container.start()
    const output = collect(stream, docker)
    stream.write('attached stdin\n')
    stream.end()
    const { stdout } = await output
    t.equal(stdout, 'attached stdin\n')
    const state = await container.wait()
    t.equal(state.StatusCode, 0, 'StdinOnce: the half-close ended the container')
  })
}
