import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel } from '../../helpers/docker'

/** POST /policy/check explains a decision and creates nothing. */
const d = requireDaemon(t)
if (d !== undefined) {
  t.test('policy check', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const check = async (scope: string, body: unknown) => {
      const res = await request(`${gw.url}/policy/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.token({ sub: 'checker', scope })}`, 'content-type': 'application/json' },
        body: JSON.stringify(body)
      })
      return { status: res.statusCode, json: await res.body.json() as any }
    }
    const label = testLabel(__filename)
    const created = async () => (await docker(`/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [label.filter] }))}`)).body.length

    const denied = await check('containers:write', { Image: d.image, Labels: label.labels, HostConfig: { Privileged: true, Binds: ['/:/host'] } })
    t.equal(denied.status, 200)
    t.equal(denied.json.allowed, false)
    t.equal(denied.json.decision, 'deny')
    t.equal(denied.json.status, 403)
    t.match(denied.json.message, 'Privileged')
    t.ok(denied.json.violations.length >= 2, 'every broken rule is listed')

    const allowed = await check('containers:write', { Image: d.image, Cmd: ['true'], Labels: label.labels })
    t.equal(allowed.json.allowed, true)
    t.equal(allowed.json.decision, 'allow')
    t.same(allowed.json.wouldDeny, [], 'nothing reported in enforce mode')
    t.equal(allowed.json.body.Labels['docker-gateway.owner'], 'checker', 'shows what would be forwarded')
    t.ok(allowed.json.body.HostConfig.Memory > 0, 'with the injected resource defaults')

    const bad = await check('containers:write', 'not an object')
    t.equal(bad.json.allowed, false)
    t.equal(bad.json.status, 400)

    const noScope = await check('containers:read', { Image: d.image })
    t.equal(noScope.status, 403)
    t.match(noScope.json.message, 'containers:write')

    t.equal(await created(), 0, 'nothing was created')
  })
}
