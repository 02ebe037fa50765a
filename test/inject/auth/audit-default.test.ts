// Without GATEWAY_AUDIT_FILE the audit lines go to the main log's
// destination: at every level (only `silent` turns them off), marked
// "log":"audit", next to the request's own lines, which share its reqId.
import t from 'tap'
import { request } from 'undici'
import { startAuthGateway } from '../../helpers/auth/gateway'

t.test('at logLevel warn: the audit line is still written, with the warn line of the same request', async t => {
  const gw = await startAuthGateway(t, { logLevel: 'warn', separateAudit: false })
  const anonymous = await request(`${gw.url}/containers/json`)
  t.equal(anonymous.statusCode, 401)
  const refusal = await anonymous.body.text()
  // /readyz cannot reach the daemon (nothing listens upstream): a warn line, then its audit line.
  const ready = await request(`${gw.url}/readyz`)
  t.equal(ready.statusCode, 503)
  await ready.body.dump()
  await new Promise(resolve => setImmediate(resolve))

  const lines = gw.logs.lines()
  t.match(lines, [
    { log: 'audit', level: 30, decision: 'deny', reason: 'authentication failed: missing', status: 401, path: '/containers/json', bytesOut: Buffer.byteLength(refusal), msg: 'request' },
    { level: 40, msg: 'readiness check failed', host: 'default' },
    { log: 'audit', path: '/readyz', status: 503 }
  ])
  t.equal(lines.length, 3, 'nothing else at warn')
  t.type(lines[0]?.reqId, 'string')
  t.equal(lines[1]?.reqId, lines[2]?.reqId, "the warn line carries the request's id, like its audit line")
  t.not(lines[0]?.reqId, lines[2]?.reqId)
  t.same(gw.audit.chunks, [], 'the separate audit capture is not used')
})

t.test('at logLevel info: a request that goes well writes its audit line and nothing else', async t => {
  const gw = await startAuthGateway(t, { logLevel: 'info', separateAudit: false })
  const res = await request(`${gw.url}/healthz`)
  t.equal(res.statusCode, 200)
  await res.body.dump()
  await new Promise(resolve => setImmediate(resolve))
  // Lines about a request carry its reqId (the others are the server's own, e.g. "Server listening").
  const lines = gw.logs.lines().filter(l => l.reqId !== undefined)
  t.match(lines, [{ log: 'audit', decision: 'allow', status: 200, path: '/healthz' }])
  t.equal(lines.length, 1)
})

t.test('at logLevel silent: no audit line either', async t => {
  const gw = await startAuthGateway(t, { logLevel: 'silent', separateAudit: false })
  const res = await request(`${gw.url}/containers/json`)
  t.equal(res.statusCode, 401)
  await res.body.dump()
  await new Promise(resolve => setImmediate(resolve))
  t.same(gw.logs.chunks, [])
})
