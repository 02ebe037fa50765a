import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../helpers/gateway'

const upstream = process.env.DOCKER_TEST_HOST ?? 'tcp://127.0.0.1:23750'

t.test('list through the gateway', async t => {
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: upstream })
  const res = await request(`${gw.url}/containers/json?all=1`, { headers: { authorization: `Bearer ${gw.token()}` } })
  t.equal(res.statusCode, 200)
  t.ok(Array.isArray(await res.body.json()))
  const v = await request(`${gw.url}/v1.41/version`, { headers: { authorization: `Bearer ${gw.token()}` } })
  t.equal(v.statusCode, 200)
  t.match(await v.body.json(), { ApiVersion: '1.41' })
})
