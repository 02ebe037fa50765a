// The audit trail: one line per request, written to its own destination
// (GATEWAY_AUDIT_FILE), answering "who stopped this container, and when" --
// checked field by field against a real stop on the real daemon.
import t from 'tap'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { claims, hs256 } from '../../helpers/auth/tokens'

const d = requireDaemon(t)

if (d !== undefined) {
  t.test('audit lines, field by field', async t => {
    const label = testLabel(__filename)
    t.teardown(async () => { await cleanupLabel(label) })
    const file = join(mkdtempSync(join(tmpdir(), 'dgw-audit-')), 'audit', 'gateway.log')
    const gw = await startAuthGateway(t, { env: { GATEWAY_UPSTREAM: d.url, GATEWAY_AUDIT_FILE: file }, separateAudit: false })
    const token = hs256(claims({ sub: 'auditor', scope: 'containers:read containers:write' }))
    const reader = hs256(claims({ sub: 'auditor', scope: 'containers:read' }))
    const name = `audit-${label.value}`
    const before = Date.now()

    const body = JSON.stringify({ Image: d.image, Cmd: ['sleep', '300'], Labels: label.labels })
    const created = await request(`${gw.url}/containers/create?name=${name}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body })
    const createdText = await created.body.text()
    t.equal(created.statusCode, 201)
    const started = await request(`${gw.url}/containers/${name}/start`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    await started.body.dump()
    const refused = await request(`${gw.url}/containers/${name}/stop`, { method: 'POST', headers: { authorization: `Bearer ${reader}` } })
    await refused.body.dump()
    t.equal(refused.statusCode, 403)
    const stopped = await request(`${gw.url}/containers/${name}/stop?t=1`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'user-agent': 'audit-test' } })
    await stopped.body.dump()
    t.equal(stopped.statusCode, 204)
    const anonymous = await request(`${gw.url}/containers/${name}/kill`, { method: 'POST' })
    await anonymous.body.dump()
    t.equal(anonymous.statusCode, 401)

    await gw.app.close()
    const lines = readFileSync(file, 'utf8').trim().split('\n').map(l => JSON.parse(l) as Record<string, any>)
    t.equal(lines.length, 5, 'one line per request')
    t.equal(statSync(file).mode & 0o777, 0o640, 'the audit file is not world-readable')
    t.notOk(gw.logs.text.includes('"msg":"request"'), 'audit lines go to the audit destination only')

    const stop = lines[3] as Record<string, any>
    const expected = ['level', 'time', 'log', 'reqId', 'principal', 'auth', 'ip', 'method', 'route', 'container', 'host', 'decision', 'status', 'bytesIn', 'bytesOut', 'durationMs', 'msg']
    t.same(Object.keys(stop).sort(), [...expected].sort(), 'exactly these fields')
    t.match(stop.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'time: ISO 8601, UTC')
    t.ok(Date.parse(stop.time) >= before - 1000 && Date.parse(stop.time) <= Date.now(), 'time: now')
    t.equal(stop.log, 'audit')
    t.equal(stop.msg, 'request')
    t.equal(typeof stop.reqId, 'string')
    t.equal(stop.principal, 'auditor', 'principal: who')
    t.equal(stop.auth, 'jwt', 'auth method')
    t.equal(stop.ip, '127.0.0.1', 'source IP')
    t.equal(stop.method, 'POST')
    t.equal(stop.route, 'POST /containers/:id/stop', 'route template')
    t.ok(stop.container === name || /^[0-9a-f]{64}$/.test(stop.container), `container: ${stop.container as string}`)
    t.equal(stop.host, 'default')
    t.equal(stop.decision, 'allow')
    t.equal(stop.reason, undefined)
    t.equal(stop.status, 204)
    t.equal(stop.bytesIn, 0)
    t.equal(stop.bytesOut, 0)
    t.ok(typeof stop.durationMs === 'number' && stop.durationMs > 0 && stop.durationMs < 60_000, `duration ${stop.durationMs as number} ms`)

    const create = lines[0] as Record<string, any>
    t.match(create, { route: 'POST /containers/create', status: 201, decision: 'allow', bytesIn: Buffer.byteLength(body), bytesOut: Buffer.byteLength(createdText) }, 'bytes each way')

    t.match(lines[2], { principal: 'auditor', route: 'POST /containers/:id/stop', decision: 'deny', reason: 'missing scope containers:write', status: 403 }, 'a refusal, with its reason')
    const anon = lines[4] as Record<string, any>
    t.match(anon, { auth: 'none', decision: 'deny', reason: 'authentication failed: missing', status: 401, path: `/containers/${name}/kill`, method: 'POST' }, 'an anonymous attempt')
    t.equal(anon.principal, undefined)
  })
}
