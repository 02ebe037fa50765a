// Debian's python3-docker (docker-py) through the gateway over HTTPS with a
// test CA, as a user script would drive it: each sequence is a `python3 -c`
// child process (asynchronous: the gateway runs in this process) that prints
// one JSON object with what the SDK returned.
import t from 'tap'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { cleanEnv, describeRun, dockerConfigDir, runProcess, startClientGateway } from '../../helpers/clients/clients'

// /usr/bin/python3 on purpose: a pyenv python earlier on PATH may carry another docker-py.
const PYTHON = '/usr/bin/python3'
const d = requireDaemon(t)
const label = testLabel(__filename)

/** Runs a script, requires exit 0 and one JSON line on stdout. */
async function python (t: tap.Test, script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Record<string, any>> {
  const r = await runProcess(PYTHON, ['-c', script, ...args], { env, timeoutMs: 120_000 })
  t.equal(r.code, 0, describeRun(r))
  try {
    return JSON.parse(r.stdout) as Record<string, any>
  } catch {
    t.fail(`no JSON from the script: ${describeRun(r)}`)
    return {}
  }
}

// The explicit way: base_url, TLSConfig with the CA, the token in
// client.api.headers. The API version is given: with version='auto' (the
// default) the constructor asks /version before the header can be set, and
// the gateway answers that unauthenticated call 401.
const SEQUENCE = `
import json, sys, time, docker
url, ca, token, image, lbl, api = sys.argv[1:7]
key, _, value = lbl.partition('=')
client = docker.DockerClient(base_url=url, tls=docker.tls.TLSConfig(ca_cert=ca, verify=True), version=api, timeout=60)
client.api.headers['Authorization'] = 'Bearer ' + token
out = {}
out['list_before'] = [c.id for c in client.containers.list(all=True)]
c = client.containers.run(image, ['sh', '-c', 'echo hello; echo oops >&2; exec sleep 300'], detach=True, labels={key: value})
out['id'] = c.id
out['list_after'] = [x.id for x in client.containers.list()]
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    logs = c.logs()
    if logs.count(b'\\n') >= 2:
        break
    time.sleep(0.2)
out['logs'] = c.logs().decode()
out['stdout_logs'] = c.logs(stderr=False).decode()
out['stderr_logs'] = c.logs(stdout=False).decode()
stats = c.stats(stream=False)
out['stats_id'] = stats.get('id')
out['stats_keys'] = sorted(stats.keys())
t0 = time.monotonic()
r = c.exec_run('cat /etc/hostname')
out['exec_seconds'] = time.monotonic() - t0
out['exec_exit'] = r.exit_code
out['exec_output'] = r.output.decode()
c.stop(timeout=1)
c.reload()
out['status_after_stop'] = c.status
c.remove()
out['list_after_remove'] = [x.id for x in client.containers.list(all=True)]
out['run_output'] = client.containers.run(image, 'echo hi', remove=True, labels={key: value}).decode()
print(json.dumps(out))
`

// The environment way: docker.from_env() reads DOCKER_HOST, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH and the HttpHeaders of DOCKER_CONFIG/config.json.
const FROM_ENV = `
import json, sys, time, docker
image, lbl = sys.argv[1:3]
key, _, value = lbl.partition('=')
client = docker.from_env(timeout=60)
c = client.containers.run(image, 'sleep 300', detach=True, labels={key: value})
t0 = time.monotonic()
r = c.exec_run(['sh', '-c', 'echo from-env > /f && cat /f'])
took = time.monotonic() - t0
print(json.dumps({'id': c.id, 'listed': [x.id for x in client.containers.list()], 'exec_exit': r.exit_code, 'exec_output': r.output.decode(), 'exec_seconds': took}))
c.remove(force=True)
`

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('docker-py through the gateway over HTTPS', async t => {
    const sub = `py-${label.value}`
    const { ca, gw, token } = await startClientGateway(t, d, sub)

    t.test('list, run detached, logs, stats, exec_run, stop, remove, run --rm', async t => {
      const api = (await docker<{ ApiVersion: string }>('/version')).body.ApiVersion
      const out = await python(t, SEQUENCE, [gw.url, ca.ca, token, d.image, label.filter, api], cleanEnv())
      t.same(out.list_before, [], 'a new principal owns no containers')
      t.match(out.id, /^[0-9a-f]{64}$/)
      t.same(out.list_after, [out.id], 'containers.list shows the running container')
      // the daemon copies stdout and stderr apart: their order in the log is not fixed
      t.same(String(out.logs).split('\n').sort(), ['', 'hello', 'oops'], 'logs(): stdout and stderr')
      t.equal(out.stdout_logs, 'hello\n', 'logs(stderr=False): stdout only')
      t.equal(out.stderr_logs, 'oops\n', 'logs(stdout=False): stderr only')
      t.equal(out.stats_id, out.id, 'stats(stream=False) answers for the container')
      t.ok(out.stats_keys.includes('memory_stats') && out.stats_keys.includes('cpu_stats'), `stats keys ${String(out.stats_keys)}`)
      t.equal(out.exec_exit, 0)
      // busybox's /etc/hostname is the short container id
      t.equal(out.exec_output, `${String(out.id).slice(0, 12)}\n`)
      // docker-py reads the exec stream to EOF: if the gateway did not end the TLS
      // connection when the daemon ended the stream, this would wait for the 60 s timeout.
      t.ok(out.exec_seconds < 10, `exec_run returned after ${Number(out.exec_seconds).toFixed(2)} s`)
      t.equal(out.status_after_stop, 'exited')
      t.same(out.list_after_remove, [], 'removed')
      t.equal((await docker(`/containers/${String(out.id)}/json`)).status, 404, 'the daemon no longer has it')
      t.equal(out.run_output, 'hi\n', "containers.run(image, 'echo hi', remove=True) returns b'hi\\n'")
    })

    t.test('docker.from_env() with DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH and HttpHeaders in config.json', async t => {
      const config = await dockerConfigDir(t, token)
      // docker-py (unlike the CLI) insists on cert.pem and key.pem in DOCKER_CERT_PATH when
      // TLS is on, even if the gateway asks for no client certificate: ca.dir holds all three.
      const env = cleanEnv({ DOCKER_HOST: gw.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: ca.dir, DOCKER_CONFIG: config })
      const out = await python(t, FROM_ENV, [d.image, label.filter], env)
      t.match(out.id, /^[0-9a-f]{64}$/)
      t.same(out.listed, [out.id])
      t.equal(out.exec_exit, 0)
      t.equal(out.exec_output, 'from-env\n')
      t.ok(out.exec_seconds < 10, `exec_run returned after ${Number(out.exec_seconds).toFixed(2)} s`)
    })
  })
}
