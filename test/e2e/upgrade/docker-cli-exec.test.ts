import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { waitFor } from '../../helpers/wait'
import { startUpgradeGateway } from '../../helpers/upgrade/gateway'

const run = promisify(execFile)
const d = requireDaemon(t)
const label = testLabel(__filename)

/** Run a docker CLI command to completion, with its stdin given. */
async function cli (args: string[], env: NodeJS.ProcessEnv, stdin: string | Buffer): Promise<{ code: number | null, stdout: Buffer, stderr: string }> {
  const child = spawn('docker', args, { env })
  const out: Buffer[] = []
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { out.push(chunk) })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  child.stdin.end(stdin)
  const timer = setTimeout(() => child.kill(), 30_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  return { code, stdout: Buffer.concat(out), stderr }
}

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('docker exec through the upgrade pass-through', async t => {
    // The container is made through the gateway (so it is the principal's), then every exec.
    const gw = await startUpgradeGateway(t)
    const container = await gw.create({ Image: d.image, Labels: label.labels, Cmd: ['sh', '-c', 'mkdir -p /tmp && echo written-in-the-container > /tmp/file && exec sleep 300'] })
    await waitFor(async () => (await docker(`/containers/${container}/archive`, { method: 'HEAD', query: { path: '/tmp/file' } })).status === 200, 10_000)
    const env = { ...process.env, DOCKER_HOST: gw.host, DOCKER_CONFIG: gw.configDir, DOCKER_CERT_PATH: '', DOCKER_TLS_VERIFY: '' }

    t.test('prints a file written in the container', async t => {
      const started = Date.now()
      const { stdout } = await run('docker', ['exec', container, 'cat', '/tmp/file'], { env, timeout: 30_000 })
      t.equal(stdout, 'written-in-the-container\n')
      t.ok(Date.now() - started < 10_000, 'returns promptly')
    })

    t.test('echo data | docker exec -i C cat: the half-close reaches the process, the output still comes back', async t => {
      // cat exits only when it sees EOF on stdin, i.e. only if the CLI's CloseWrite travels
      // through the gateway as a half-close (a full close would lose the output instead).
      const { code, stdout, stderr } = await cli(['exec', '-i', container, 'cat'], env, 'data\n')
      t.equal(code, 0, stderr)
      t.equal(stdout.toString(), 'data\n')
    })

    t.test('4 MiB through stdin and back, with backpressure', async t => {
      const payload = Buffer.alloc(4 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz\n')
      const { code, stdout, stderr } = await cli(['exec', '-i', container, 'cat'], env, payload)
      t.equal(code, 0, stderr)
      t.equal(stdout.length, payload.length)
      t.ok(stdout.equals(payload), 'byte for byte')
    })

    t.test('the exit code of the process is the exit code of docker exec', async t => {
      const err = await run('docker', ['exec', container, 'sh', '-c', 'echo out; exit 3'], { env, timeout: 30_000 }).then(() => undefined, (e: unknown) => e)
      t.match(err, { code: 3, stdout: 'out\n' })
    })

    t.test('each exec start went through the gateway as an upgrade, allowed, as the principal', async t => {
      const records = await gw.settled(4)
      const starts = records.filter((r) => r.route === 'POST /exec/:exec/start')
      t.equal(starts.length, 4)
      for (const r of starts) t.match(r, { status: 101, decision: 'allow', principal: 'upgrade-tests' })
    })
  })
}
