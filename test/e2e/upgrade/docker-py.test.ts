import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startUpgradeGateway } from '../../helpers/upgrade/gateway'

const run = promisify(execFile)

// Debian's python3-docker (docker-py 5.x); /usr/bin/python3 on purpose, a pyenv python on PATH
// may carry another docker-py.
const PYTHON = '/usr/bin/python3'

const d = requireDaemon(t)
const label = testLabel(__filename)

const script = `
import json, sys, time, docker
client = docker.DockerClient(base_url=sys.argv[1], timeout=60)
key, _, value = sys.argv[3].partition('=')
out = client.containers.run(sys.argv[2], 'echo hi', remove=True, labels={key: value})
c = client.containers.run(sys.argv[2], 'sleep 300', detach=True, labels={key: value})
try:
    t0 = time.monotonic()
    r = c.exec_run('cat /etc/hostname')
    took = time.monotonic() - t0
    print(json.dumps({'run': out.decode(), 'exit': r.exit_code, 'exec': r.output.decode(), 'seconds': took, 'id': c.id}))
finally:
    c.remove(force=True)
`

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('docker-py: containers.run output and a prompt exec_run', async t => {
    const gw = await startUpgradeGateway(t)
    // docker-py sends config.json's HttpHeaders (the token) from DOCKER_CONFIG, as the CLI does.
    const { stdout } = await run(PYTHON, ['-c', script, gw.host, d.image, label.filter], { timeout: 120_000, env: { ...process.env, DOCKER_CONFIG: gw.configDir } })
    const result = JSON.parse(stdout) as { run: string, exit: number, exec: string, seconds: number, id: string }
    t.equal(result.run, 'hi\n')
    t.equal(result.exit, 0)
    // busybox's /etc/hostname is the short container id.
    t.equal(result.exec, `${result.id.slice(0, 12)}\n`)
    // docker-py reads until EOF: without the daemon's end reaching it, it waits for its 60 s timeout.
    t.ok(result.seconds < 5, `exec_run returned after ${result.seconds.toFixed(2)} s`)
    const starts = (await gw.settled(1)).filter((r) => r.route === 'POST /exec/:exec/start')
    t.equal(starts[0]?.status, 101, 'exec start went through the upgrade path')
    t.equal(starts[0]?.principal, 'upgrade-tests', 'as the principal of the token')
  })
}
