import t from 'tap'
import { call, NO_DOCKERD, startFleet } from '../../helpers/hosts/fleet'

// A token whose `hosts` claim is ["a"] reaches a only: 403 on b (whether or
// not the name exists), and the fleet views show only a.
t.test('hosts claim limits the reachable hosts', { skip: NO_DOCKERD }, async t => {
  const { gw } = await startFleet(t)
  const onlyA = gw.token({ scope: 'containers:read containers:write', hosts: ['a'] })

  t.equal((await call(gw, '/hosts/a/containers/json', { token: onlyA })).status, 200)
  t.match(await call(gw, '/hosts/b/containers/json', { token: onlyA }), { status: 403, body: { message: 'token does not allow host "b"' } })
  t.match(await call(gw, '/hosts/b/v1.41/containers/create', { token: onlyA, method: 'POST', json: { Image: 'dgw-busybox:test' } }), { status: 403 })
  t.match(await call(gw, '/hosts/nope/containers/json', { token: onlyA }), { status: 403, body: { message: 'token does not allow host "nope"' } })
  // Unprefixed: the default host is a here, which the token allows.
  t.equal((await call(gw, '/containers/json', { token: onlyA })).status, 200)

  const hosts = await call(gw, '/hosts', { token: onlyA })
  t.same(hosts.body.map((h: { Name: string }) => h.Name), ['a'])
  const fleet = await call(gw, '/hosts/_all/containers/json?all=1', { token: onlyA })
  t.equal(fleet.status, 200)
  t.ok((fleet.body as Array<{ Host: string }>).every(c => c.Host === 'a'))

  const onlyB = gw.token({ scope: 'containers:read', hosts: ['b'] })
  t.match(await call(gw, '/containers/json', { token: onlyB }), { status: 403, body: { message: 'token does not allow host "a"' } })
  const none = gw.token({ scope: 'containers:read', hosts: [] })
  t.same((await call(gw, '/hosts', { token: none })).body, [])
  // No claim: every host.
  t.same((await call(gw, '/hosts')).body.map((h: { Name: string }) => h.Name), ['a', 'b', 'c'])
})
