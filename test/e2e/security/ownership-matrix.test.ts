import crypto from 'node:crypto'
import t from 'tap'
import { request } from 'undici'
import { routes, type RouteDef } from '../../../src/docker/routes'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { makeTar } from '../../helpers/tar'
import { requestHead, talk } from '../../helpers/security/raw-http'

/**
 * The other-principal matrix (issue 10, "What to build" 6): principal A, with
 * every non-admin scope, calls EVERY route of the allow-list that addresses a
 * container or an exec -- the hijacked ones too, both as upgrades and as plain
 * requests -- on principal B's containers (created, running, paused) and B's
 * exec, by full id, name and id prefix. Each answer must be the answer for a
 * reference that does not exist, and the daemon must end up exactly as before:
 * nothing started, unpaused, renamed, updated, removed, and the exec never run.
 * The route list is the routes table itself, so a new route is covered here.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('another principal reaches none of B\'s containers or execs through any route', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_DOCKER_CP: 'on' })
    const all = 'containers:read containers:write containers:export containers:exec'
    const run = crypto.randomBytes(3).toString('hex')
    const tokens = { a: gw.token({ sub: `a-${run}`, scope: all }), b: gw.token({ sub: `b-${run}`, scope: all }), admin: gw.token({ sub: 'root', scope: 'admin' }) }

    const create = async (name: string, cmd: string[]): Promise<string> => {
      const res = await request(`${gw.url}/containers/create?name=${name}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.b}`, 'content-type': 'application/json' },
        body: JSON.stringify({ Image: d.image, Cmd: cmd, Labels: label.labels, OpenStdin: true })
      })
      const text = await res.body.text()
      if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode} ${text}`)
      return (JSON.parse(text) as { Id: string }).Id
    }
    const sleeper = ['sh', '-c', 'exec sleep 600']
    const names = { created: `b-created-${run}`, running: `b-running-${run}`, paused: `b-paused-${run}` }
    const ids = {
      created: await create(names.created, sleeper),
      running: await create(names.running, sleeper),
      paused: await create(names.paused, sleeper)
    }
    for (const which of ['running', 'paused'] as const) {
      t.equal((await docker(`/containers/${ids[which]}/start`, { method: 'POST' })).status, 204, `start ${which}`)
    }
    t.equal((await docker(`/containers/${ids.paused}/pause`, { method: 'POST' })).status, 204, 'pause')
    const exec = await docker<{ Id: string }>(`/containers/${ids.running}/exec`, { json: { Cmd: ['touch', '/tmp/exec-ran'], AttachStdout: true } })
    t.equal(exec.status, 201, 'B has an exec, created, never started')
    const execId = exec.body.Id

    const snapshot = async (): Promise<unknown> => {
      const out: Record<string, unknown> = {}
      for (const [which, id] of Object.entries(ids)) {
        const info = (await docker(`/containers/${id}/json`)).body
        out[which] = { Name: info.Name, State: info.State, RestartCount: info.RestartCount, HostConfig: info.HostConfig, Config: info.Config, ExecIDs: info.ExecIDs }
      }
      const e = (await docker(`/exec/${execId}/json`)).body
      out.exec = { Running: e.Running, Pid: e.Pid, ExitCode: e.ExitCode }
      return out
    }
    const before = await snapshot()

    // References that do not exist, of each kind.
    const existing = ((await docker<Array<{ Id: string }>>('/containers/json', { query: { all: true } })).body).map(c => c.Id)
    let missingId = crypto.randomBytes(32).toString('hex')
    while (existing.some(id => id.startsWith(missingId.slice(0, 12)))) missingId = crypto.randomBytes(32).toString('hex')
    const missing = { id: missingId, name: `nobody-${run}`, prefix: missingId.slice(0, 12), exec: crypto.randomBytes(32).toString('hex') }

    type Answer = { status: number, body: unknown }
    const normalise = (ref: string, status: number, text: string): Answer => {
      let body: unknown = text.split(ref).join('<ref>')
      try { body = JSON.parse(body as string) } catch {}
      return { status, body }
    }
    const query = (route: RouteDef): string => {
      // `path` (docker cp) is required: without it the call would be a 400 before the ownership step.
      const values: Record<string, string> = { path: '/tmp', name: `stolen-${run}`, h: '20', w: '20', stdout: '1', stderr: '1', stream: '1', stdin: '1', signal: 'KILL', t: '1', force: '1' }
      const q = Object.keys(route.query).filter(k => values[k] !== undefined).map(k => `${k}=${values[k] as string}`)
      return q.length > 0 ? `?${q.join('&')}` : ''
    }
    // docker cp's upload: a file that must never appear in B's containers.
    const intruderTar = makeTar([{ name: 'intruder', body: 'written by A' }])
    const bodyFor = (route: RouteDef): string | Buffer | undefined => ({
      none: undefined,
      create: undefined,
      update: JSON.stringify({ CpuShares: 512, RestartPolicy: { Name: 'always' } }),
      exec: JSON.stringify({ Cmd: ['touch', '/tmp/intruder'], AttachStdout: true }),
      execStart: JSON.stringify({ Detach: true, Tty: false }),
      tar: intruderTar
    })[route.body]
    const pathFor = (route: RouteDef, ref: string): string => '/' + route.segments.map(s => s === ':id' || s === ':exec' ? ref : s).join('/') + query(route)

    /** One call as `who`; `upgrade` sends it as the hijack the CLI sends (raw socket). */
    const callRoute = async (who: keyof typeof tokens, route: RouteDef, ref: string, upgrade: boolean): Promise<Answer> => {
      const path = pathFor(route, ref)
      const body = bodyFor(route)
      const headers: Record<string, string | number> = { Authorization: `Bearer ${tokens[who]}` }
      if (body !== undefined) Object.assign(headers, { 'Content-Type': route.body === 'tar' ? 'application/x-tar' : 'application/json', 'Content-Length': Buffer.byteLength(body) })
      if (upgrade) {
        if (route.id === 'container.attachWs') {
          Object.assign(headers, { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' })
        } else {
          Object.assign(headers, { Connection: 'Upgrade', Upgrade: 'tcp' })
        }
        const res = await talk(gw.port, [requestHead(route.method, path, headers) + (body ?? '')], 5000)
        return normalise(ref, res.status, res.body)
      }
      const res = await request(gw.url + path, { method: route.method, headers: headers as Record<string, string>, body })
      return normalise(ref, res.statusCode, await res.body.text())
    }

    const targeted = routes.filter(r => r.target === 'container' || r.target === 'exec')
    t.ok(targeted.length >= 20, `${targeted.length} routes address a container or an exec`)
    for (const want of ['container.start', 'container.unpause', 'container.update', 'container.resize', 'container.attach', 'container.attachWs', 'exec.start', 'exec.resize']) {
      t.ok(targeted.some(r => r.id === want), `${want} is in the matrix`)
    }

    for (const route of targeted) {
      const forms = route.traffic === 'upgrade' ? [false, true] : [false]
      for (const upgrade of forms) {
        const what = `${route.template}${upgrade ? ' (upgrade)' : ''}`
        await t.test(what, async t => {
          if (route.target === 'exec') {
            const base = await callRoute('a', route, missing.exec, upgrade)
            t.equal(base.status, 404, `a missing exec is 404: the call reached the ownership step (${JSON.stringify(base.body)})`)
            t.same(await callRoute('a', route, execId, upgrade), base, "B's exec answers as a missing one")
            return
          }
          const bases = {
            id: await callRoute('a', route, missing.id, upgrade),
            name: await callRoute('a', route, missing.name, upgrade),
            prefix: await callRoute('a', route, missing.prefix, upgrade)
          }
          for (const [kind, base] of Object.entries(bases)) {
            t.equal(base.status, 404, `a missing ${kind} is 404: the call reached the ownership step (${JSON.stringify(base.body)})`)
          }
          for (const which of ['created', 'running', 'paused'] as const) {
            t.same(await callRoute('a', route, ids[which], upgrade), bases.id, `${which}, by id`)
            t.same(await callRoute('a', route, names[which], upgrade), bases.name, `${which}, by name`)
            t.same(await callRoute('a', route, ids[which].slice(0, 12), upgrade), bases.prefix, `${which}, by prefix`)
          }
        })
      }
    }

    await t.test('the daemon state is unchanged: nothing started, unpaused, renamed, updated, removed; the exec never ran', async t => {
      t.same(await snapshot(), before)
      const top = await docker(`/containers/${ids.running}/top`)
      t.equal(top.status, 200)
      t.notMatch(JSON.stringify(top.body.Processes), /intruder|exec-ran/, 'no process of A in the container')
      const list = await docker<Array<{ Names: string[] }>>('/containers/json', { query: { all: true, filters: { name: [`stolen-${run}`] } } })
      t.same(list.body, [], 'no container was renamed to the name A chose')
      for (const [which, id] of Object.entries(ids)) {
        const stat = await docker(`/containers/${id}/archive`, { method: 'HEAD', query: { path: '/tmp/intruder' } })
        t.equal(stat.status, 404, `docker cp wrote nothing into B's ${which} container`)
      }
    })

    await t.test('admin is allowed (the positive row)', async t => {
      const inspect = routes.find(r => r.id === 'container.inspect') as RouteDef
      const res = await request(gw.url + pathFor(inspect, names.running), { headers: { authorization: `Bearer ${tokens.admin}` } })
      t.equal(res.statusCode, 200)
      t.equal((await res.body.json() as { Id: string }).Id, ids.running)
      const execInspect = routes.find(r => r.id === 'exec.inspect') as RouteDef
      const e = await request(gw.url + pathFor(execInspect, execId), { headers: { authorization: `Bearer ${tokens.admin}` } })
      t.equal(e.statusCode, 200)
      t.equal((await e.body.json() as { ContainerID: string }).ContainerID, ids.running)
      // And B, the owner, reaches its own by prefix: the refusals above are about A, not the refs.
      const own = await request(gw.url + pathFor(inspect, ids.paused.slice(0, 12)), { headers: { authorization: `Bearer ${tokens.b}` } })
      t.equal(own.statusCode, 200)
      await own.body.dump()
    })
  })
}
