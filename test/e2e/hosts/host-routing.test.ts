import t from 'tap'
import { engineRequest } from '../../harness/engine'
import { call, NO_DOCKERD, startFleet } from '../../helpers/hosts/fleet'

// A container created through /hosts/b exists on b only; every mirrored
// route is also served under /hosts/{name}, with or without a version prefix.
t.test('routing by /hosts/{name}', { skip: NO_DOCKERD }, async t => {
  const { gw, daemons } = await startFleet(t)
  const { b } = daemons as Record<'a' | 'b' | 'c', NonNullable<typeof daemons.b>>

  const created = await call(gw, '/hosts/b/v1.41/containers/create?name=only-on-b', {
    method: 'POST',
    json: { Image: b.image, Cmd: ['sleep', '300'], Labels: { CallFrom: 'hosts-routing' } }
  })
  t.equal(created.status, 201, JSON.stringify(created.body))
  const id = created.body.Id as string

  // Asked directly, only b has it.
  for (const [name, d] of Object.entries(daemons)) {
    const res = await engineRequest(d, `/containers/${id}/json`)
    t.equal(res.status, name === 'b' ? 200 : 404, `daemon ${name} ${name === 'b' ? 'has' : 'does not have'} the container`)
  }

  // Without a version prefix too, and the start/inspect/delete lifecycle goes to b.
  t.equal((await call(gw, `/hosts/b/containers/${id}/start`, { method: 'POST' })).status, 204)
  const inspect = await call(gw, `/hosts/b/containers/only-on-b/json`)
  t.equal(inspect.status, 200)
  t.equal(inspect.body.State.Running, true)
  t.equal((await call(gw, `/hosts/a/containers/only-on-b/json`)).status, 404, 'a does not know it')
  const onB = await call(gw, `/hosts/b/v1.41/containers/json?filters=${encodeURIComponent('{"label":["CallFrom=hosts-routing"]}')}`)
  t.same(onB.body.map((c: { Id: string }) => c.Id), [id])
  const onC = await call(gw, '/hosts/c/v1.41/containers/json?all=1')
  t.same(onC.body, [])

  // /_ping and /version under the prefix (what clients call first).
  const ping = await call(gw, '/hosts/c/_ping')
  t.equal(ping.status, 200)
  t.equal(ping.headers['api-version'], '1.41')
  t.equal((await call(gw, '/hosts/c/v1.41/version')).body.ApiVersion, '1.41')

  t.equal((await call(gw, `/hosts/b/containers/${id}?force=1`, { method: 'DELETE' })).status, 204)
  t.equal((await engineRequest(b, `/containers/${id}/json`)).status, 404)

  // Unknown names, bad names, and _all beyond the fleet list.
  t.match(await call(gw, '/hosts/x/containers/json'), { status: 404, body: { message: 'No such host: x' } })
  t.match(await call(gw, '/hosts/X_Y/containers/json'), { status: 400, body: { message: 'invalid host name "X_Y"' } })
  t.match(await call(gw, '/hosts/_all/containers/abc/json'), { status: 404, body: { message: 'page not found' } })
  t.match(await call(gw, '/hosts/_all/v1.41/version'), { status: 404, body: { message: 'page not found' } })
  t.match(await call(gw, '/hosts/_all/containers/create', { method: 'POST', json: {} }), { status: 404, body: { message: 'page not found' } })
  // Unprefixed calls go to the default host (the first configured: a).
  t.equal((await call(gw, '/containers/json?all=1')).status, 200)
})
