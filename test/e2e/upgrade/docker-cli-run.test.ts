import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startUpgradeGateway } from '../../helpers/upgrade/gateway'

const run = promisify(execFile)
const d = requireDaemon(t)
const label = testLabel(__filename)

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })
  // DOCKER_HOST and a config.json carrying the token: what a user of the gateway sets.
  const cliEnv = (host: string, configDir: string): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: configDir, DOCKER_CERT_PATH: '', DOCKER_TLS_VERIFY: '' })

  t.test('docker run --rm, attached, prints exactly the container output', async t => {
    const gw = await startUpgradeGateway(t)
    const { stdout, stderr } = await run('docker', ['run', '--rm', '--label', label.filter, d.image, 'echo', 'hi'], { env: cliEnv(gw.host, gw.configDir), timeout: 60_000 })
    t.equal(stdout, 'hi\n', `stderr: ${stderr}`)
    const [attach] = await gw.settled(1)
    t.match(attach, { route: 'POST /containers/:id/attach', status: 101, decision: 'allow' })
    // One multiplexed frame: 8-byte header + "hi\n".
    t.ok((attach?.bytesOut ?? 0) >= 11, 'the output went through the upgraded connection')
  })

  t.test('docker run -i --rm with piped stdin: stdin reaches the container, output comes back', async t => {
    const gw = await startUpgradeGateway(t)
    const child = spawn('docker', ['run', '-i', '--rm', '--label', label.filter, d.image, 'cat'], { env: cliEnv(gw.host, gw.configDir) })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    child.stdin.end('line one\nline two\n')
    const timer = setTimeout(() => child.kill(), 60_000)
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    clearTimeout(timer)
    t.equal(code, 0, stderr)
    t.equal(stdout, 'line one\nline two\n')
    const [attach] = await gw.settled(1)
    t.ok((attach?.bytesIn ?? 0) >= 'line one\nline two\n'.length, `stdin went up the upgraded connection (${attach?.bytesIn ?? 0} bytes in)`)
  })
}
