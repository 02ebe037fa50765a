// The endpoint x scope matrix, against the real daemon: for every route of
// the allow-list, a token lacking the route's scope gets 403 naming it (each
// other single scope, no scope, and every scope but that one), and a token
// with exactly that scope succeeds.
import t from 'tap'
import http from 'node:http'
import { request } from 'undici'
import { routes, type RouteDef, type Scope } from '../../../src/docker/routes'
import { ALL_SCOPES } from '../../../src/auth/scopes'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { startAuthGateway, type AuthGateway } from '../../helpers/auth/gateway'
import { claims, hs256 } from '../../helpers/auth/tokens'
import { makeTar } from '../../helpers/tar'

const d = requireDaemon(t)

const SUB = 'matrix'
const token = (scope: string): string => hs256(claims({ sub: SUB, scope }))

interface Call {
  method: string
  path: string
  body?: unknown
  /** A tar (docker cp's upload), sent as it is. */
  tar?: Buffer
  upgrade?: 'tcp' | 'websocket'
}

interface Result { status: number, body: any }

async function call (gw: AuthGateway, c: Call, scope: string): Promise<Result> {
  const headers: Record<string, string> = { authorization: `Bearer ${token(scope)}` }
  if (c.upgrade !== undefined) return await upgrade(gw, c, headers)
  let body: string | Buffer | undefined
  if (c.body !== undefined) {
    body = JSON.stringify(c.body)
    headers['content-type'] = 'application/json'
  }
  if (c.tar !== undefined) {
    body = c.tar
    headers['content-type'] = 'application/x-tar'
  }
  const res = await request(`${gw.url}${c.path}`, { method: c.method as 'GET', headers, body })
  const text = c.method === 'HEAD' ? '' : await res.body.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch {}
  return { status: res.statusCode, body: parsed }
}

/** An upgrade request (attach, attach/ws): 101 is success; the stream is closed at once. */
async function upgrade (gw: AuthGateway, c: Call, headers: Record<string, string>): Promise<Result> {
  const h: Record<string, string> = { ...headers, connection: 'Upgrade', upgrade: c.upgrade as string }
  if (c.upgrade === 'websocket') {
    h['sec-websocket-key'] = Buffer.from('0123456789abcdef').toString('base64')
    h['sec-websocket-version'] = '13'
  }
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.port, method: c.method, path: c.path, headers: h })
    // A gateway that never answers must fail the step, not hang the file.
    const timer = setTimeout(() => { req.destroy(); resolve({ status: 0, body: 'no answer within 10 s' }) }, 10_000)
    req.on('upgrade', (res, socket) => { clearTimeout(timer); socket.destroy(); resolve({ status: res.statusCode ?? 0, body: '' }) })
    req.on('response', (res) => {
      // A non-101 answer: its status is what counts; the body may be an endless raw stream.
      clearTimeout(timer)
      let text = ''
      res.on('data', (b: Buffer) => { text += b.toString() })
      const done = (): void => { let body: unknown = text; try { body = JSON.parse(text) } catch {} resolve({ status: res.statusCode ?? 0, body }) }
      if ((res.statusCode ?? 0) < 300) { req.destroy(); done() } else res.on('end', done)
    })
    req.on('error', (err) => { clearTimeout(timer); reject(err) })
    req.end()
  })
}

if (d !== undefined) {
  t.test('every route x every scope', async t => {
    const label = testLabel(__filename)
    t.teardown(async () => { await cleanupLabel(label) })
    const gw = await startAuthGateway(t, { env: { GATEWAY_UPSTREAM: d.url, GATEWAY_RATE_LIMIT_MAX: '0', GATEWAY_DOCKER_CP: 'on' } })

    const create = async (name: string, extra: Record<string, unknown> = {}): Promise<string> => {
      const res = await call(gw, { method: 'POST', path: `/containers/create?name=${name}`, body: { Image: d.image, Cmd: ['sh', '-c', 'while true; do echo tick; sleep 1; done'], Labels: label.labels, ...extra } }, 'containers:write')
      if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`)
      return res.body.Id as string
    }
    const startC = async (id: string): Promise<void> => {
      const res = await call(gw, { method: 'POST', path: `/containers/${id}/start` }, 'containers:write')
      if (res.status !== 204) throw new Error(`start: ${res.status} ${JSON.stringify(res.body)}`)
    }
    const suffix = label.value.slice(-8)
    const running = await create(`mx-run-${suffix}`, { Tty: true })
    await startC(running)
    const toStart = await create(`mx-start-${suffix}`)
    const toStop = await create(`mx-stop-${suffix}`)
    await startC(toStop)
    const toKill = await create(`mx-kill-${suffix}`)
    await startC(toKill)
    const toDelete = await create(`mx-del-${suffix}`)
    const waitFor = await create(`mx-wait-${suffix}`)
    let execId = ''

    // In order: later steps use what earlier ones made (the exec id) or left (a paused container).
    const steps: Array<{ id: string, method: string, call: () => Call, ok: number[], message?: RegExp }> = [
      { id: 'ping', method: 'GET', call: () => ({ method: 'GET', path: '/_ping' }), ok: [200] },
      { id: 'ping', method: 'HEAD', call: () => ({ method: 'HEAD', path: '/_ping' }), ok: [200] },
      { id: 'version', method: 'GET', call: () => ({ method: 'GET', path: '/v1.41/version' }), ok: [200] },
      { id: 'container.list', method: 'GET', call: () => ({ method: 'GET', path: `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [label.filter] }))}` }), ok: [200] },
      { id: 'container.create', method: 'POST', call: () => ({ method: 'POST', path: `/containers/create?name=mx-new-${suffix}`, body: { Image: d.image, Cmd: ['true'], Labels: label.labels } }), ok: [201] },
      { id: 'container.inspect', method: 'GET', call: () => ({ method: 'GET', path: `/containers/${running}/json` }), ok: [200] },
      { id: 'container.top', method: 'GET', call: () => ({ method: 'GET', path: `/containers/${running}/top` }), ok: [200] },
      { id: 'container.logs', method: 'GET', call: () => ({ method: 'GET', path: `/containers/${running}/logs?stdout=1&tail=1` }), ok: [200] },
      { id: 'container.changes', method: 'GET', call: () => ({ method: 'GET', path: `/containers/${running}/changes` }), ok: [200] },
      { id: 'container.export', method: 'GET', call: () => ({ method: 'GET', path: `/containers/${toDelete}/export` }), ok: [200] },
      { id: 'container.archivePut', method: 'PUT', call: () => ({ method: 'PUT', path: `/containers/${running}/archive?path=/`, tar: makeTar([{ name: 'mx-cp', body: 'copied' }]) }), ok: [200] },
      { id: 'container.archiveStat', method: 'HEAD', call: () => ({ method: 'HEAD', path: `/containers/${running}/archive?path=/mx-cp` }), ok: [200] },
      { id: 'container.archive', method: 'GET', call: () => ({ method: 'GET', path: `/containers/${running}/archive?path=/mx-cp` }), ok: [200] },
      { id: 'container.stats', method: 'GET', call: () => ({ method: 'GET', path: `/containers/${running}/stats?stream=0` }), ok: [200] },
      { id: 'container.start', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${toStart}/start` }), ok: [204] },
      { id: 'container.stop', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${toStop}/stop?t=1` }), ok: [204] },
      { id: 'container.restart', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${toStop}/restart?t=1` }), ok: [204] },
      { id: 'container.kill', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${toKill}/kill?signal=SIGKILL` }), ok: [204] },
      { id: 'container.rename', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${toStart}/rename?name=mx-renamed-${suffix}` }), ok: [204] },
      { id: 'container.pause', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${toStart}/pause` }), ok: [204] },
      { id: 'container.unpause', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${toStart}/unpause` }), ok: [204] },
      { id: 'container.update', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${running}/update`, body: { CpuShares: 512 } }), ok: [200] },
      { id: 'container.wait', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${waitFor}/wait?condition=not-running` }), ok: [200] },
      { id: 'container.attach', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${running}/attach?stream=1&stdout=1`, upgrade: 'tcp' }), ok: [101] },
      { id: 'container.attachWs', method: 'GET', call: () => ({ method: 'GET', path: `/containers/${running}/attach/ws?stream=1&stdout=1`, upgrade: 'websocket' }), ok: [101] },
      { id: 'container.resize', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${running}/resize?h=24&w=80` }), ok: [200] },
      { id: 'exec.create', method: 'POST', call: () => ({ method: 'POST', path: `/containers/${running}/exec`, body: { Cmd: ['sleep', '30'], Tty: true, User: '65534' } }), ok: [201] },
      { id: 'exec.start', method: 'POST', call: () => ({ method: 'POST', path: `/exec/${execId}/start`, body: { Detach: true, Tty: true } }), ok: [200] },
      { id: 'exec.inspect', method: 'GET', call: () => ({ method: 'GET', path: `/exec/${execId}/json` }), ok: [200] },
      { id: 'exec.resize', method: 'POST', call: () => ({ method: 'POST', path: `/exec/${execId}/resize?h=24&w=80` }), ok: [200, 201] },
      { id: 'container.delete', method: 'DELETE', call: () => ({ method: 'DELETE', path: `/containers/${toDelete}?force=1` }), ok: [204] },
      { id: 'image.list', method: 'GET', call: () => ({ method: 'GET', path: '/images/json' }), ok: [200] },
      { id: 'image.inspect', method: 'GET', call: () => ({ method: 'GET', path: `/images/${d.image}/json` }), ok: [200] },
      // Past the scope check, this gateway's policy (no imageAllowList) refuses every pull: the policy's 403, not the scope's.
      { id: 'image.pull', method: 'POST', call: () => ({ method: 'POST', path: '/images/create?fromImage=busybox&tag=1' }), ok: [403], message: /policy\.imageAllowList is empty/ },
      { id: 'events', method: 'GET', call: () => ({ method: 'GET', path: `/events?until=${Math.floor(Date.now() / 1000)}&filters=${encodeURIComponent(JSON.stringify({ label: [label.filter] }))}` }), ok: [200] },
      // Last: it removes this file's stopped containers.
      { id: 'container.prune', method: 'POST', call: () => ({ method: 'POST', path: `/containers/prune?filters=${encodeURIComponent(JSON.stringify({ label: [label.filter] }))}` }), ok: [200] }
    ]

    const covered = new Set(steps.map(s => `${s.method} ${s.id}`))
    for (const r of routes) t.ok(covered.has(`${r.method} ${r.id}`), `the matrix covers ${r.template}`)

    for (const step of steps) {
      const route = routes.find(r => r.id === step.id && r.method === step.method) as RouteDef
      const needed: Scope = route.scope
      const c = step.call()
      const lacking = [...ALL_SCOPES.filter(s => s !== needed && s !== 'admin'), '', ALL_SCOPES.filter(s => s !== needed && s !== 'admin').join(' ')]
      for (const scope of lacking) {
        // Refusals are decided before anything reaches the daemon: inject, without upgrade headers.
        const res = await gw.app.inject({
          method: c.method as 'GET',
          url: c.path,
          headers: { authorization: `Bearer ${token(scope)}`, ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(c.tar !== undefined ? { 'content-type': 'application/x-tar' } : {}) },
          ...(c.body !== undefined ? { payload: JSON.stringify(c.body) } : {}),
          ...(c.tar !== undefined ? { payload: c.tar } : {})
        })
        t.equal(res.statusCode, 403, `${route.template} with scope "${scope}": 403`)
        if (c.method !== 'HEAD') t.same(res.json(), { message: `token lacks the scope "${needed}" needed for ${route.template}` }, `${route.template}: names ${needed}`)
        t.equal(res.headers['www-authenticate'], `Bearer realm="docker-gateway", error="insufficient_scope", scope="${needed}"`, `${route.template}: insufficient_scope challenge`)
      }
      const res = await call(gw, c, needed)
      t.ok(step.ok.includes(res.status), `${route.template} with "${needed}": ${res.status} ${res.status >= 400 ? JSON.stringify(res.body) : ''}`)
      if (step.message !== undefined) t.match(res.body?.message, step.message, `${route.template} with "${needed}": past the scope check`)
      if (step.id === 'exec.create' && res.status === 201) execId = res.body.Id as string
    }

    t.test('admin may do everything', async t => {
      for (const c of [{ method: 'GET', path: '/_ping' }, { method: 'GET', path: `/containers/${running}/json` }, { method: 'GET', path: `/exec/${execId}/json` }, { method: 'GET', path: `/containers/${running}/export` }]) {
        const res = await call(gw, c, 'admin')
        t.equal(res.status, 200, `admin: ${c.method} ${c.path.replace(/[0-9a-f]{64}/, ':id')}`)
      }
    })
  })
}
