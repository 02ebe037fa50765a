// Secrets never reach a log line: a create body carrying
// Env ["PASSWORD=hunter2"] goes through the gateway to the real daemon (and
// the secret really arrives there), while neither the trace-level log nor
// the audit output holds the secret or the bearer token -- also when the
// body is refused.
import t from 'tap'
import { request } from 'undici'
import pino from 'pino'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { Capture, startAuthGateway } from '../../helpers/auth/gateway'
import { claims, hs256 } from '../../helpers/auth/tokens'
import { redactOptions } from '../../../src/audit/redact'

const d = requireDaemon(t)
const SECRET_VALUE = 'hunter2'

if (d !== undefined) {
  t.test('Env values and tokens appear in no log output', async t => {
    const label = testLabel(__filename)
    t.teardown(async () => { await cleanupLabel(label) })
    const gw = await startAuthGateway(t, { env: { GATEWAY_UPSTREAM: d.url }, logLevel: 'trace' })
    const token = hs256(claims({ sub: 'redactor', scope: 'containers:read containers:write' }))
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const name = `redact-${label.value}`

    const ok = await request(`${gw.url}/containers/create?name=${name}`, {
      method: 'POST', headers, body: JSON.stringify({ Image: d.image, Cmd: ['true'], Env: [`PASSWORD=${SECRET_VALUE}`, 'MODE=test'], Labels: label.labels })
    })
    const created = await ok.body.json() as { Id: string }
    t.equal(ok.statusCode, 201)
    const inspect = await docker(`/containers/${created.Id}/json`)
    t.ok((inspect.body.Config.Env as string[]).includes(`PASSWORD=${SECRET_VALUE}`), 'the daemon got the secret: the gateway forwards it, it just never logs it')

    // Refusals and errors, where a body or its pieces could end up in a message.
    const refusals = [
      JSON.stringify({ Image: d.image, Env: [`PASSWORD=${SECRET_VALUE}`], HostConfig: { Privileged: true }, Labels: label.labels }),
      `{"Image":"${d.image}","Env":["PASSWORD=${SECRET_VALUE}"],`,
      JSON.stringify({ Image: 'no-such-image:never', Env: [`PASSWORD=${SECRET_VALUE}`], Labels: label.labels }),
      JSON.stringify({ Image: d.image, Env: `PASSWORD=${SECRET_VALUE}`, Labels: label.labels })
    ]
    for (const body of refusals) {
      const res = await request(`${gw.url}/containers/create`, { method: 'POST', headers, body })
      await res.body.dump()
      t.ok(res.statusCode >= 400, `refused: ${res.statusCode}`)
    }
    // And a bad token, which names nothing but must not be logged either.
    const bad = await request(`${gw.url}/containers/json`, { headers: { authorization: `Bearer ${token}x` } })
    await bad.body.dump()

    await gw.app.close()
    const all = gw.logs.text + gw.audit.text
    t.ok(gw.audit.lines().length >= 6, 'the requests were audited')
    t.ok(gw.logs.text.length > 0, 'and logged at trace level')
    t.notOk(all.includes(SECRET_VALUE), 'hunter2 appears nowhere in log or audit output')
    t.notOk(all.includes(token.split('.')[2] as string), 'the token signature appears nowhere')
    t.notOk(all.includes(token.split('.')[1] as string), 'the token payload appears nowhere')
  })
}

t.test('the redaction paths: Env values and credentials wherever an object is logged', async t => {
  const out = new Capture()
  const log = pino({ redact: redactOptions }, out)
  log.info({ body: { Env: ['PASSWORD=hunter2', 'NOVALUE'] }, Env: ['A=hunter2'], req: { headers: { authorization: 'Bearer hunter2', cookie: 'c=hunter2' } }, token: 'hunter2', err: { config: { jwtSecret: 'hunter2' } } }, 'x')
  const line = out.lines()[0] as Record<string, any>
  t.notOk(out.text.includes('hunter2'))
  t.same(line.body.Env, ['PASSWORD=[redacted]', '[redacted]'], 'names stay, values go')
  t.same(line.Env, ['A=[redacted]'])
  t.equal(line.req.headers.authorization, '[redacted]')
  t.equal(line.req.headers.cookie, '[redacted]')
})
