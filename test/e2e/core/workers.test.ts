// `docker-gateway start` with GATEWAY_WORKERS=2 (src/cluster): what the
// gateway promises with several workers, seen from outside, through the real
// CLI against the harness's dockerd:
// - the first start makes one secret, one certificate and one admin token,
//   printed once, and that token works on every worker;
// - a rate limit of N is N for the gateway, not N per worker (no Redis: the
//   primary counts);
// - a daemon is health-checked once per interval, not once per worker, and
//   every worker shows the same state;
// - failureThreshold failed calls open a host's circuit in every worker;
// - SIGHUP reloads the host list in every worker;
// - SIGTERM lets a stream in flight finish its grace, then every process exits.
// Requests go on fresh connections, which the primary hands to the workers in
// turn; the audit lines' request ids (req-<worker>-<n>) show which served.
import t from 'tap'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { daemonAddress, requireDaemon, type DaemonInfo } from '../../helpers/env'
import { docker } from '../../helpers/docker'
import { freePort } from '../../helpers/net'
import { sleep } from '../../helpers/wait'
import { startCli, type Cli } from '../../helpers/auth/cli'

const d = requireDaemon(t)

/**
 * A stand-in daemon (a real one cannot be made to fail on cue) that counts
 * its health checks; `cutCalls` makes it answer pings but hang up on every
 * other call, a transport failure the circuit breaker counts.
 */
async function countingDaemon (opts: { cutCalls?: boolean } = {}): Promise<{ url: string, pings: () => number, stop: () => Promise<void> }> {
  let pings = 0
  const server: Server = createServer((req, res) => {
    if (req.url?.endsWith('/_ping') === true) { pings++; res.setHeader('api-version', '1.41'); res.end('OK'); return }
    if (req.url?.endsWith('/version') === true) { res.end('{"Version":"20.10.24","ApiVersion":"1.41"}'); return }
    if (opts.cutCalls === true) { req.socket.destroy(); return }
    res.setHeader('content-type', 'application/json')
    res.end('[]')
  })
  const port = await freePort()
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
  return {
    url: `tcp://127.0.0.1:${port}`,
    pings: () => pings,
    stop: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

/** The worker ids in the audit lines (stdout) of the GET requests to `route` (or refused at `route`), with their statuses. */
function servedBy (cli: Cli, route: string): Array<{ worker: string, status: number }> {
  return cli.stdout().split('\n').filter(l => l.includes('"log":"audit"')).map(l => JSON.parse(l) as { path?: string, route?: string, reqId: string, status: number })
    .filter(a => a.route === `GET ${route}` || a.path === route).map(a => ({ worker: (/^req-([0-9]+)-/.exec(a.reqId) ?? [])[1] as string, status: a.status }))
}

/** One request on a connection of its own (the primary hands new connections to the workers in turn). */
type Fresh = (path: string) => Promise<{ status: number, body: any }>

function client (cli: Cli, dir: string, port: number): Fresh {
  const token = (/admin token [^\n]*\ndocker-gateway: +(\S+)\n/.exec(cli.stderr()) ?? [])[1] as string
  const ca = readFileSync(join(dir, 'data', 'tls', 'cert.pem'), 'utf8')
  return async (path) => {
    const agent = new Agent({ connect: { ca } })
    try {
      const res = await request(`https://127.0.0.1:${port}${path}`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } })
      const text = await res.body.text()
      return { status: res.statusCode, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text }
    } finally {
      await agent.close()
    }
  }
}

/**
 * The CLI with two workers in front of `daemon` ("local", the default)
 * and a counting daemon ("probe"), with these health-check and breaker settings.
 */
async function twoWorkers (t: { teardown: (fn: () => unknown) => void }, daemon: DaemonInfo, prefix: string, probeOpts: { cutCalls?: boolean }, settings: string, env: Record<string, string> = {}): Promise<{ dir: string, port: number, cli: Cli, probe: Awaited<ReturnType<typeof countingDaemon>>, config: string, local: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const probe = await countingDaemon(probeOpts)
  t.teardown(probe.stop)
  const local = daemonAddress(daemon)
  const config = join(dir, 'gateway.yaml')
  writeFileSync(config, `hosts:\n  local: ${local}\n  probe: ${probe.url}\ndefaultHost: local\n${settings}`)
  const port = await freePort()
  const cli = await startCli(t, { GATEWAY_CONFIG: config, GATEWAY_DATA_DIR: join(dir, 'data'), GATEWAY_LISTEN: `127.0.0.1:${port}`, GATEWAY_WORKERS: '2', ...env })
  return { dir, port, cli, probe, config, local }
}

/** True while a process with this pid exists. */
function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

if (d !== undefined) {
  t.test('two workers behave as one gateway', async t => {
    const { dir, port, cli, probe } = await twoWorkers(t, d, 'dgw-workers-', {},
      'healthCheck: { intervalMs: 400, timeoutMs: 300, fall: 2, rise: 1, degradedLatencyMs: 250 }\n' +
      'circuitBreaker: { failureThreshold: 3, halfOpenAfterMs: 60000 }\n',
      { GATEWAY_RATE_LIMIT_MAX: '40', GATEWAY_RATE_LIMIT_WINDOW: '10m' })
    const banner = cli.stderr()
    const workers = /docker-gateway: 2 workers \(pids ([0-9]+), ([0-9]+)\), primary pid ([0-9]+)\n/.exec(banner)
    t.ok(workers, 'the banner names the two workers and the primary')
    t.equal(banner.match(/listening on/g)?.length, 1, 'one banner, printed once')
    t.equal(banner.match(/admin token/g)?.length, 1, 'one admin token, printed once')
    t.match(banner, /JWT secret generated: .*\n/, 'the secret was made (once, by the primary)')
    t.match(banner, /self-signed, created now/, 'the certificate was made (once, by the primary)')
    t.same(readdirSync(join(dir, 'data', 'tls')).sort(), ['cert.pem', 'key.pem'], 'one certificate and key in the data folder')

    const fresh = client(cli, dir, port)

    await t.test('the admin token works on every worker', async t => {
      const version = (await docker('/version')).body as { Version: string }
      for (let i = 0; i < 6; i++) {
        const r = await fresh('/hosts/local/version')
        t.equal(r.status, 200)
        t.equal(r.body.Version, version.Version)
      }
      await sleep(200)
      t.same(new Set(servedBy(cli, '/version').map(s => s.worker)).size, 2, 'both workers served the token')
    })

    await t.test('each daemon is checked once per interval, and every worker shows the same state', async t => {
      const before = probe.pings()
      await sleep(2000)
      const pings = probe.pings() - before
      // One checker every 400 ms: about 5 in 2 s; one per worker would be about 10.
      t.ok(pings >= 3 && pings <= 7, `${pings} health checks of the daemon in 2 s at intervalMs 400`)
      for (let i = 0; i < 4; i++) {
        const hosts = (await fresh('/hosts')).body as Array<{ Name: string, State: string, ApiVersion?: string }>
        t.match(hosts.find(h => h.Name === 'probe'), { State: 'up', ApiVersion: '1.41' }, `answer ${i + 1}: probe up, with its API version`)
      }
      await sleep(200)
      t.equal(new Set(servedBy(cli, '/hosts').map(s => s.worker)).size, 2, 'both workers answered')
    })
    await t.test('one rate limit for the gateway: 40 requests in the window, not 40 per worker', async t => {
      // Ten requests so far; 50 more: exactly 30 pass, whichever worker serves them.
      const answers = await Promise.all(Array.from({ length: 50 }, async () => await fresh('/_ping')))
      const ok = answers.filter(a => a.status === 200).length
      const limited = answers.filter(a => a.status === 429)
      t.equal(ok, 30, '30 more requests passed: 40 in all')
      t.equal(limited.length, 20, 'the other 20 got 429')
      t.match(limited[0]?.body, { message: /^rate limit exceeded for principal "admin": 40 requests per 10m/ })
      await sleep(200)
      const refusedBy = new Set(servedBy(cli, '/_ping').filter(s => s.status === 429).map(s => s.worker))
      t.equal(refusedBy.size, 2, 'both workers refused: they share one count')
    })

  })

  t.test('two workers: one circuit breaker per host, SIGHUP and SIGTERM reach every worker', async t => {
    // Health checks far apart: the breaker alone decides in this test.
    const settings = 'healthCheck: { intervalMs: 600000, timeoutMs: 1000, fall: 2, rise: 1, degradedLatencyMs: 500 }\n' +
      'circuitBreaker: { failureThreshold: 3, halfOpenAfterMs: 600000 }\n'
    const { dir, port, cli, config, local } = await twoWorkers(t, d, 'dgw-workers-signals-', { cutCalls: true }, settings)
    const pids = (/2 workers \(pids ([0-9]+), ([0-9]+)\)/.exec(cli.stderr()) ?? []).slice(1).map(Number)
    const fresh = client(cli, dir, port)

    await t.test('failureThreshold failed calls open the circuit in every worker', async t => {
      for (let i = 0; i < 3; i++) {
        const r = await fresh('/hosts/probe/v1.41/containers/json')
        t.equal(r.status, 502, `failed call ${i + 1}: 502 from the daemon hanging up`)
      }
      await sleep(100)
      t.equal(new Set(servedBy(cli, '/containers/json').map(s => s.worker)).size, 2, 'the failures were spread over both workers')
      // Counted per worker, neither would have seen 3 in a row; counted for the gateway, both are open.
      for (let i = 0; i < 4; i++) {
        const r = await fresh('/hosts/probe/v1.41/containers/json')
        t.equal(r.status, 503, `call ${i + 1} after the third failure: 503 at once`)
        t.match(r.body, { message: /^Docker host "probe" is unavailable/ })
      }
      const fast = servedBy(cli, '/containers/json').filter(s => s.status === 503)
      t.equal(new Set(fast.map(s => s.worker)).size, 2, 'both workers failed fast')
    })

    await t.test('SIGHUP reloads the host list in every worker', async t => {
      writeFileSync(config, `hosts:\n  local: ${local}\ndefaultHost: local\n${settings}`)
      cli.child.kill('SIGHUP')
      const deadline = Date.now() + 5000
      let streak = 0
      while (streak < 6 && Date.now() < deadline) {
        const names = ((await fresh('/hosts')).body as Array<{ Name: string }>).map(h => h.Name)
        streak = names.includes('probe') ? 0 : streak + 1
      }
      t.equal(streak, 6, 'six answers in a row, three from each worker, without "probe"')
      const r = await fresh('/hosts/probe/v1.41/containers/json')
      t.equal(r.status, 404, 'a call to the removed host: 404')
      t.equal(cli.child.exitCode, null, 'the gateway still runs')
      t.ok(pids.every(alive), 'with the same workers')
    })

    await t.test('SIGTERM: every worker shuts down gracefully, then the primary exits 0', async t => {
      const stream = await request(`https://127.0.0.1:${port}/events`, {
        dispatcher: new Agent({ connect: { ca: readFileSync(join(dir, 'data', 'tls', 'cert.pem'), 'utf8') } }),
        headers: { authorization: `Bearer ${(/admin token [^\n]*\ndocker-gateway: +(\S+)\n/.exec(cli.stderr()) ?? [])[1] as string}` }
      })
      t.equal(stream.statusCode, 200, 'an events stream is open')
      const ended = stream.body.text().then(() => 'ended', () => 'cut')
      const signalled = Date.now()
      cli.child.kill('SIGTERM')
      const code = await cli.exited
      const took = Date.now() - signalled
      t.equal(code, 0, 'the primary exits 0')
      t.ok(await ended, 'the stream was ended')
      t.ok(took >= 4000 && took < 20_000, `after the streams' grace (5 s): ${took} ms`)
      t.notOk(pids.some(alive), 'no worker is left')
    })
  })
}
