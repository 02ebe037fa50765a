import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'

const daemon = requireDaemon(t)
const upstream = daemon?.url ?? ''
const image = daemon?.image ?? 'dgw-busybox:test'


if (daemon !== undefined) t.test('list through the gateway', async t => {
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: upstream })
  const res = await request(`${gw.url}/containers/json?all=1`, { headers: { authorization: `Bearer ${gw.token()}` } })
  t.equal(res.statusCode, 200)
  t.ok(Array.isArray(await res.body.json()))
  const v = await request(`${gw.url}/v1.41/version`, { headers: { authorization: `Bearer ${gw.token()}` } })
  t.equal(v.statusCode, 200)
  t.match(await v.body.json(), { ApiVersion: '1.41' })
})
