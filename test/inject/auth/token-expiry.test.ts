// A token the gateway has verified (and cached) stops working the moment
// its exp passes, not when the cache would forget it.
import t from 'tap'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { claims, hs256, now } from '../../helpers/auth/tokens'
import { sleep } from '../../helpers/wait'

t.test('a cached token expires on time', async t => {
  const gw = await startAuthGateway(t)
  const exp = now() + 2
  const token = hs256(claims({ exp }))
  const call = async (): Promise<number> => (await gw.app.inject({ url: '/swarm', headers: { authorization: `Bearer ${token}` } })).statusCode
  t.equal(await call(), 404, 'valid: verified and cached')
  t.equal(await call(), 404, 'valid: from the cache')
  await sleep(exp * 1000 - Date.now() + 20)
  const res = await gw.app.inject({ url: '/swarm', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 401, 'just after exp: refused')
  t.match(res.json(), { message: /expired/ })
})
