import t from 'tap'
import { engineRequest } from '../../harness/engine'
import { call, NO_DOCKERD, startFleet } from '../../helpers/hosts/fleet'

// GET /hosts/_all/containers/json merges every host's list, each item naming
// its Host; GET /hosts shows each host up with its versions.
t.test('fleet list across three daemons', { skip: NO_DOCKERD }, async t => {
  const { gw, daemons } = await startFleet(t)
  const label = `fleet-${process.pid}`
  for (const [name, d] of Object.entries(daemons)) {
    for (const i of [1, 2]) {
      const res = await engineRequest(d, '/containers/create', {
        query: { name: `${name}-web0${i}` },
        json: { Image: d.image, Cmd: ['sleep', '300'], Labels: { CallFrom: label } }
      })
      t.equal(res.status, 201)
    }
  }

  const filters = encodeURIComponent(JSON.stringify({ label: [`CallFrom=${label}`] }))
  for (const prefix of ['/hosts/_all', '/hosts/_all/v1.41']) {
    const list = await call(gw, `${prefix}/containers/json?all=1&filters=${filters}`)
    t.equal(list.status, 200)
    t.equal(list.headers['x-docker-gateway-failed-hosts'], undefined, 'no host failed')
    const got = (list.body as Array<{ Names: string[], Host: string }>).map(c => `${c.Host}:${c.Names[0] ?? ''}`).sort()
    t.same(got, ['a:/a-web01', 'a:/a-web02', 'b:/b-web01', 'b:/b-web02', 'c:/c-web01', 'c:/c-web02'], `${prefix}: six containers, each with its host`)
  }

  // Same query validation as the list route.
  t.match(await call(gw, '/hosts/_all/containers/json?filters={"bogus":["x"]}'), { status: 400, body: { message: "invalid filter 'bogus'" } })
  t.match(await call(gw, '/hosts/_all/v01.41/containers/json'), { status: 400 })
  // limit is the newest N of the fleet.
  const limited = await call(gw, `/hosts/_all/containers/json?all=1&limit=3&filters=${filters}`)
  t.equal(limited.body.length, 3)
  // Scope: containers:read.
  t.equal((await call(gw, '/hosts/_all/containers/json', { token: gw.token({ scope: 'containers:write' }) })).status, 403)
  t.equal((await call(gw, '/hosts', { token: gw.token({ scope: 'containers:write' }) })).status, 403)

  const hosts = await call(gw, '/hosts', { token: gw.token({ scope: 'containers:read' }) })
  t.equal(hosts.status, 200)
  t.same(hosts.body.map((h: { Name: string }) => h.Name), ['a', 'b', 'c'])
  for (const h of hosts.body) {
    t.match(h, { State: 'up', ApiVersion: '1.41', Version: /^20\./, Circuit: 'closed', Error: null, LatencyMs: Number })
    t.ok(Date.now() - Date.parse(h.LastCheck) < 5000, `${h.Name} checked recently`)
  }
  t.equal(hosts.body.filter((h: { Default: boolean }) => h.Default).length, 1)
})
