import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { engineRequest } from '../../harness/engine'
import { startGateway } from '../../helpers/gateway'
import { call, NO_DOCKERD, startDaemons, type Answer } from '../../helpers/hosts/fleet'

// Issue 11 item 2: every call the gateway makes to a daemon goes through the
// host's one client and reports to that host's breaker and metrics. On the
// real app, against a private dockerd that is killed half-way: the ownership
// lookup, the top outcome check and /readyz each open their own host's
// circuit once the daemon is gone, while a daemon's 404 never counted. The
// three hosts name the same daemon, so each circuit shows one caller only.
// (Before: none of the three reported, so their circuits stayed closed and
// every call waited for its own 502.)
t.test('lookups, the top check and /readyz report to the breaker', { skip: NO_DOCKERD }, async t => {
  const { one } = await startDaemons(t, ['one']) as { one: NonNullable<Awaited<ReturnType<typeof startDaemons>>[string]> }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgw-one-client-'))
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  const file = path.join(dir, 'gateway.yaml')
  fs.writeFileSync(file, stringify({
    hosts: { look: { url: one.url }, top: { url: one.url }, ready: { url: one.url } },
    defaultHost: 'ready',
    // One check at start, then none during the test: only calls move the circuits.
    healthCheck: { intervalMs: 600_000, timeoutMs: 2000, fall: 2, rise: 1, degradedLatencyMs: 2000 },
    circuitBreaker: { failureThreshold: 2, halfOpenAfterMs: 600_000 }
  }))
  const gw = await startGateway(t, { GATEWAY_CONFIG: file })
  const alice = gw.token({ sub: 'alice', scope: 'containers:read containers:write' })
  const circuits = async (): Promise<Record<string, string>> =>
    Object.fromEntries((await call(gw, '/hosts')).body.map((h: { Name: string, Circuit: string }) => [h.Name, h.Circuit]))
  const answered = async (host: string): Promise<number> => {
    const text = (await call(gw, '/metrics')).body as string
    return Number(new RegExp(`^dgw_upstream_response_seconds_count\\{host="${host}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
  }

  const created = await engineRequest(one, '/containers/create', { json: { Image: one.image, Cmd: ['sleep', '600'] } })
  t.equal(created.status, 201)
  const id = (JSON.parse(created.body.toString('utf8')) as { Id: string }).Id
  t.equal((await engineRequest(one, `/containers/${id}/start`, { method: 'POST' })).status, 204)

  // Alive. A lookup the daemon answers 404 is an answer: three of them, with a threshold of two, leave the circuit closed.
  for (let i = 0; i < 3; i++) {
    t.match(await call(gw, '/hosts/look/containers/nosuch/json', { token: alice }), { status: 404, body: { message: /nosuch/ } })
  }
  t.same(await circuits(), { look: 'closed', top: 'closed', ready: 'closed' }, 'a daemon 404 does not count against it')
  t.ok(await answered('look') >= 3, 'the lookups reached the metrics')

  // The top check (admin: the id's owner is looked up once, then cached) and /readyz, answered.
  const top = await call(gw, `/hosts/top/containers/${id}/top?ps_args=-o%20pid,comm`)
  t.equal(top.status, 200)
  t.match(top.body, { Titles: ['PID', 'COMMAND'], Processes: [[String, 'sleep']] })
  t.ok(await answered('top') >= 4, `lookup and three top calls observed (${await answered('top')})`)
  t.match(await call(gw, '/readyz'), { status: 200, body: { status: 'ready', host: 'ready' } })
  t.equal(await answered('ready'), 1, '/readyz observed')

  await one.kill()

  const twice = async (p: string, token?: string): Promise<Answer[]> =>
    [await call(gw, p, token !== undefined ? { token } : {}), await call(gw, p, token !== undefined ? { token } : {})]

  // Dead. The owner-filtered list behind alice's name lookup fails twice: the circuit of "look" opens.
  for (const r of await twice('/hosts/look/containers/web/json', alice)) {
    t.match(r, { status: 502, body: { message: /^cannot reach Docker daemon "look": / } })
  }
  t.same(await circuits(), { look: 'open', top: 'closed', ready: 'closed' }, 'the lookups opened their host\'s circuit only')
  const fast = await call(gw, '/hosts/look/containers/web/json', { token: alice })
  t.match(fast, { status: 503, body: { message: /^Docker host "look" is unavailable: / } }, 'then calls fail fast')

  // The top check's own fetches (the owner is cached): the circuit of "top" opens.
  for (const r of await twice(`/hosts/top/containers/${id}/top?ps_args=-ef`)) {
    t.match(r, { status: 502, body: { message: /^cannot reach Docker daemon "top": / } })
  }
  t.same(await circuits(), { look: 'open', top: 'open', ready: 'closed' }, 'the top check opened its host\'s circuit')

  // /readyz on the default host.
  for (const r of await twice('/readyz')) {
    t.match(r, { status: 503, body: { message: /^Docker daemon "ready" is not reachable: / } })
  }
  t.same(await circuits(), { look: 'open', top: 'open', ready: 'open' }, '/readyz opened the default host\'s circuit')
})
