import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { makeTls, startUpgradeGateway } from '../../helpers/upgrade/gateway'

const run = promisify(execFile)
const d = requireDaemon(t)
const label = testLabel(__filename)

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('over HTTPS', async t => {
    const tls = await makeTls(t)
    const gw = await startUpgradeGateway(t, { tls })
    // What a user of a TLS daemon sets: the CA in DOCKER_CERT_PATH/ca.pem, verification on.
    // No cert.pem/key.pem there: the CLI then sends no client certificate; the token comes
    // from config.json's HttpHeaders.
    const env = { ...process.env, DOCKER_HOST: gw.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tls.dir, DOCKER_CONFIG: gw.configDir }
    // Made through the gateway, so it is the principal's own.
    const created = await run('docker', ['run', '-d', '--label', label.filter, d.image, 'sleep', '300'], { env, timeout: 60_000 })
    const container = created.stdout.trim()
    t.match(container, /^[0-9a-f]{64}$/, created.stderr)

    t.test('docker exec prints the output and returns promptly', async t => {
      const started = Date.now()
      const { stdout } = await run('docker', ['exec', container, 'cat', '/etc/hostname'], { env, timeout: 30_000 })
      t.equal(stdout, `${container.slice(0, 12)}\n`)
      t.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`)
    })

    t.test('echo data | docker exec -i: the TLS half-close (close_notify) keeps the output', async t => {
      const child = spawn('docker', ['exec', '-i', container, 'sh', '-c', 'cat; echo after-eof'], { env })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
      child.stdin.end('data over tls\n')
      const timer = setTimeout(() => child.kill(), 30_000)
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      clearTimeout(timer)
      t.equal(code, 0, stderr)
      t.equal(stdout, 'data over tls\nafter-eof\n')
    })

    t.test('docker-py exec_run over TLS returns at once, not at its read timeout', async t => {
      const script = `
import json, sys, time, docker
tls = docker.tls.TLSConfig(ca_cert=sys.argv[2], verify=True)
client = docker.DockerClient(base_url=sys.argv[1], tls=tls, timeout=60)
c = client.containers.get(sys.argv[3])
t0 = time.monotonic()
r = c.exec_run('cat /etc/hostname')
print(json.dumps({'exit': r.exit_code, 'out': r.output.decode(), 'seconds': time.monotonic() - t0}))
`
      // requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment replace the
      // client's own CA file; drop them so the test CA is the one used.
      const { REQUESTS_CA_BUNDLE: _r, CURL_CA_BUNDLE: _c, ...pyEnv } = process.env
      const { stdout } = await run('/usr/bin/python3', ['-c', script, `https://127.0.0.1:${gw.port}`, tls.ca, container], { env: { ...pyEnv, DOCKER_CONFIG: gw.configDir }, timeout: 120_000 })
      const result = JSON.parse(stdout) as { exit: number, out: string, seconds: number }
      t.equal(result.exit, 0)
      t.equal(result.out, `${container.slice(0, 12)}\n`)
      t.ok(result.seconds < 5, `exec_run returned after ${result.seconds.toFixed(2)} s`)
    })
  })
}
