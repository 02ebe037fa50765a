// The docker CLI on this machine, unchanged, through the gateway over HTTPS
// with a test CA: configured only by DOCKER_HOST, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH (ca.pem) and a DOCKER_CONFIG whose config.json carries the
// token as an HttpHeaders entry. Every assertion is on what the CLI printed
// (or, for state changes, on what the daemon itself reports afterwards).
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { ensureSelfSigned } from '../../../src/tls/self-signed'
import { startGateway } from '../../helpers/gateway'
import { startHttpsGateway } from '../../helpers/tls'
import { engineRequest } from '../../harness/engine'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { demux, tarEntries } from '../../helpers/tar'
import { waitFor } from '../../helpers/wait'
import { cleanEnv, describeRun, dockerConfigDir, runProcess, startClientGateway, USER_SCOPES, type RunResult } from '../../helpers/clients/clients'

const DOCKER = '/usr/local/bin/docker'
const d = requireDaemon(t)
const label = testLabel(__filename)

interface Inspect { Id: string, Name: string, State: { Running: boolean, ExitCode: number, StartedAt: string }, Config: { Labels: Record<string, string> } }

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('docker CLI through the gateway over HTTPS', async t => {
    const { ca, gw, token } = await startClientGateway(t, d, 'cli-user')
    const config = await dockerConfigDir(t, token)
    const tlsEnv = { DOCKER_HOST: gw.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: ca.caOnlyDir }
    const env = cleanEnv({ ...tlsEnv, DOCKER_CONFIG: config })
    const cli = async (args: string[], opts: { input?: string, timeoutMs?: number, env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> =>
      await runProcess(DOCKER, args, { env: opts.env ?? env, timeoutMs: opts.timeoutMs ?? 60_000, ...(opts.input !== undefined ? { input: opts.input } : {}) })
    /** Run and require exit 0; returns stdout. */
    const ok = async (t: tap.Test, args: string[], opts: { input?: string } = {}): Promise<string> => {
      const r = await cli(args, opts)
      t.equal(r.code, 0, `docker ${args.join(' ')}: ${describeRun(r)}`)
      return r.stdout
    }
    const inspect = async (id: string): Promise<Inspect> => (await docker<Inspect>(`/containers/${id}/json`)).body
    const labelArgs = ['--label', label.filter]

    t.test('docker version: the daemon answers through the gateway', async t => {
      const daemonVersion = (await docker<{ ApiVersion: string, Version: string }>('/version')).body
      const out = await ok(t, ['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'])
      t.equal(out, `${daemonVersion.Version} ${daemonVersion.ApiVersion}\n`)
    })

    t.test('docker version with a client certificate in DOCKER_CERT_PATH too (not needed, not in the way)', async t => {
      const r = await cli(['version', '--format', '{{.Server.APIVersion}}'], { env: cleanEnv({ ...tlsEnv, DOCKER_CERT_PATH: ca.dir, DOCKER_CONFIG: config }) })
      t.equal(r.code, 0, describeRun(r))
      t.match(r.stdout, /^1\.\d+\n$/)
    })

    t.test('docker create, then docker ps -a lists it', async t => {
      const name = `${label.value}-created`
      const id = (await ok(t, ['create', ...labelArgs, '--name', name, d.image, 'sleep', '300'])).trim()
      t.match(id, /^[0-9a-f]{64}$/)
      const c = await inspect(id)
      t.equal(c.Name, `/${name}`)
      t.equal(c.State.Running, false)
      t.equal(c.Config.Labels['docker-gateway.owner'], 'cli-user', 'the gateway labelled it with its owner')
      const ps = await ok(t, ['ps', '-a', '--no-trunc', '--filter', `label=${label.filter}`, '--format', '{{.ID}} {{.Names}} {{.Status}}'])
      t.match(ps, new RegExp(`^${id} ${name} Created$`, 'm'))
    })

    t.test('docker run --rm IMAGE echo hi prints exactly hi and removes the container', async t => {
      const marker = `${label.filter}-rm`
      const r = await cli(['run', '--rm', '--label', label.filter, '--label', `dgw.case=${marker}`, d.image, 'echo', 'hi'])
      t.equal(r.code, 0, describeRun(r))
      t.equal(r.stdout, 'hi\n')
      const left = await docker<unknown[]>('/containers/json', { query: { all: true, filters: { label: [`dgw.case=${marker}`] } } })
      t.same(left.body, [], '--rm: no container left')
    })

    // One long-running container for the commands that inspect or change one.
    const main = { id: '', name: `${label.value}-main` }
    t.test('docker run -d', async t => {
      const script = 'mkdir -p /tmp && echo written-in-the-container > /tmp/file && echo to-stdout && echo to-stderr >&2 && exec sleep 300'
      main.id = (await ok(t, ['run', '-d', ...labelArgs, '--name', main.name, d.image, 'sh', '-c', script])).trim()
      t.match(main.id, /^[0-9a-f]{64}$/)
      t.equal((await inspect(main.id)).State.Running, true)
      // the script has run once its last line is in the daemon's log
      await waitFor(async () => demux((await engineRequest(d, `/containers/${main.id}/logs`, { query: { stdout: true, stderr: true } })).body).stderr !== '', 20_000)
    })

    t.test('docker logs: stdout and stderr apart', async t => {
      const r = await cli(['logs', main.name])
      t.equal(r.code, 0, describeRun(r))
      t.equal(r.stdout, 'to-stdout\n')
      t.equal(r.stderr, 'to-stderr\n')
    })

    t.test('docker logs -f follows and ends when the container stops', async t => {
      const id = (await ok(t, ['run', '-d', ...labelArgs, d.image, 'sh', '-c', 'echo one; sleep 2; echo two'])).trim()
      const r = await cli(['logs', '-f', id], { timeoutMs: 30_000 })
      t.equal(r.code, 0, describeRun(r))
      t.equal(r.stdout, 'one\ntwo\n')
      t.equal((await inspect(id)).State.Running, false)
    })

    t.test('docker stats --no-stream', async t => {
      const out = await ok(t, ['stats', '--no-stream', '--format', '{{.ID}}|{{.Name}}|{{.PIDs}}|{{.MemUsage}}', main.name])
      t.match(out, new RegExp(`^${main.id.slice(0, 12)}\\|${main.name}\\|1\\|\\d[\\d.]*[KMG]?i?B / \\d`, 'm'))
    })

    t.test('docker top', async t => {
      const out = await ok(t, ['top', main.name])
      t.match(out, /^UID\s+PID\s+PPID/)
      t.match(out, /sleep 300/)
      // With ps options: the gateway's ps_args grammar takes what the CLI sends (src/docker/ps-args.ts).
      t.match(await ok(t, ['top', main.name, 'aux']), /^USER\s+PID\s+%CPU[\s\S]*sleep 300/)
      t.match(await ok(t, ['top', main.name, '-o', 'pid,comm']), /^PID\s+COMMAND\n\d+\s+sleep/)
      const sorted = await cli(['top', main.name, '-ef', '--sort=-pid'])
      t.not(sorted.code, 0, 'a refused ps_args fails the CLI')
      t.match(sorted.stderr, /ps_args/)
    })

    t.test('docker diff', async t => {
      const out = await ok(t, ['diff', main.name])
      t.match(out, /^A \/tmp\/file$/m)
    })

    t.test('docker export -o FILE: a tar that holds the busybox binary', async t => {
      const file = path.join(ca.dir, 'export.tar')
      await ok(t, ['export', '-o', file, main.name])
      const entries = tarEntries(await readFile(file))
      t.ok(entries.includes('bin/busybox'), `bin/busybox among ${entries.length} entries`)
      t.ok(entries.includes('tmp/file'), 'the file written in the container too')
    })

    t.test('docker inspect', async t => {
      const out = await ok(t, ['inspect', main.name])
      const parsed = JSON.parse(out) as Inspect[]
      t.equal(parsed.length, 1)
      t.equal(parsed[0]?.Id, main.id)
      t.equal(parsed[0]?.Config.Labels[label.key], label.value)
    })

    t.test('docker exec prints a file written in the container', async t => {
      const r = await cli(['exec', main.name, 'cat', '/tmp/file'], { timeoutMs: 30_000 })
      t.equal(r.code, 0, describeRun(r))
      t.equal(r.stdout, 'written-in-the-container\n')
      t.ok(r.ms < 20_000, `returned after ${r.ms} ms`)
    })

    t.test('echo data | docker exec -i C cat: stdin round trip', async t => {
      const r = await cli(['exec', '-i', main.name, 'cat'], { input: 'data\n', timeoutMs: 30_000 })
      t.equal(r.code, 0, describeRun(r))
      t.equal(r.stdout, 'data\n')
      t.ok(r.ms < 20_000, `returned after ${r.ms} ms`)
    })

    t.test('docker rename', async t => {
      const renamed = `${main.name}-renamed`
      await ok(t, ['rename', main.name, renamed])
      t.equal((await inspect(main.id)).Name, `/${renamed}`)
      main.name = renamed
    })

    t.test('docker kill -s SIGKILL', async t => {
      const out = await ok(t, ['kill', '-s', 'SIGKILL', main.name])
      t.equal(out, `${main.name}\n`)
      const c = await waitFor(async () => { const c = await inspect(main.id); return c.State.Running ? undefined : c }, 20_000)
      t.equal(c.State.ExitCode, 137, 'killed by signal 9')
    })

    t.test('docker restart', async t => {
      const before = (await inspect(main.id)).State.StartedAt
      await ok(t, ['restart', '-t', '1', main.name])
      const c = await inspect(main.id)
      t.equal(c.State.Running, true)
      t.not(c.State.StartedAt, before, 'started again')
    })

    t.test('docker stop', async t => {
      await ok(t, ['stop', '-t', '1', main.name])
      t.equal((await inspect(main.id)).State.Running, false)
    })

    t.test('docker rm -f', async t => {
      await ok(t, ['rm', '-f', main.name])
      t.equal((await docker(`/containers/${main.id}/json`)).status, 404)
    })

    t.test('commands outside the mirror fail at once with "page not found"', async t => {
      for (const args of [['system', 'df'], ['volume', 'ls'], ['network', 'ls']]) {
        const r = await cli(args, { timeoutMs: 30_000 })
        t.not(r.code, 0, `docker ${args.join(' ')} fails: ${describeRun(r)}`)
        t.equal(r.timedOut, false, 'no hang')
        t.match(r.stderr, /page not found/, `docker ${args.join(' ')} says why`)
        t.ok(r.ms < 20_000, `returned after ${r.ms} ms`)
      }
    })

    t.test('docker exec with a token lacking containers:exec: the 403 message in the CLI output', async t => {
      const id = (await ok(t, ['run', '-d', ...labelArgs, d.image, 'sleep', '300'])).trim()
      const readOnly = await dockerConfigDir(t, gw.token({ sub: 'cli-user', scope: 'containers:read containers:write' }))
      const r = await cli(['exec', id, 'true'], { env: cleanEnv({ ...tlsEnv, DOCKER_CONFIG: readOnly }), timeoutMs: 30_000 })
      t.not(r.code, 0, describeRun(r))
      t.equal(r.timedOut, false, 'no hang')
      t.match(r.stderr, /token lacks the scope "containers:exec" needed for POST \/containers\/:id\/exec/)
    })
  })

  t.test("the gateway's own self-signed certificate (first start, no CA) as DOCKER_CERT_PATH/ca.pem", async t => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dgw-clients-selfsigned-'))
    t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
    // what `docker-gateway start` writes to .data/tls/ when no certificate is configured
    const ss = await ensureSelfSigned(path.join(dir, 'data'))
    const certPath = path.join(dir, 'certs')
    await mkdir(certPath)
    await copyFile(ss.certFile, path.join(certPath, 'ca.pem'))
    const gw = await startHttpsGateway(t, { serverCert: ss.certFile, serverKey: ss.keyFile }, { GATEWAY_UPSTREAM: d.url })
    const config = await dockerConfigDir(t, gw.token({ sub: 'cli-self-signed', scope: USER_SCOPES }))
    const env = cleanEnv({ DOCKER_HOST: gw.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath, DOCKER_CONFIG: config })
    const r = await runProcess(DOCKER, ['run', '--rm', '--label', label.filter, d.image, 'echo', 'hi'], { env, timeoutMs: 60_000 })
    t.equal(r.code, 0, describeRun(r))
    t.equal(r.stdout, 'hi\n')
  })

  t.test('plain HTTP (GATEWAY_TLS=off): DOCKER_HOST and config.json only', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const config = await dockerConfigDir(t, gw.token({ sub: 'cli-plain', scope: USER_SCOPES }))
    const env = cleanEnv({ DOCKER_HOST: `tcp://127.0.0.1:${gw.port}`, DOCKER_CONFIG: config })
    const r = await runProcess(DOCKER, ['run', '--rm', '--label', label.filter, d.image, 'echo', 'hi'], { env, timeoutMs: 60_000 })
    t.equal(r.code, 0, describeRun(r))
    t.equal(r.stdout, 'hi\n')
    const piped = await runProcess(DOCKER, ['run', '--rm', '-i', '--label', label.filter, d.image, 'cat'], { env, input: 'over plain tcp\n', timeoutMs: 60_000 })
    t.equal(piped.code, 0, describeRun(piped))
    t.equal(piped.stdout, 'over plain tcp\n', 'echo ... | docker run -i: stdin through attach, half-closed')
  })
}
