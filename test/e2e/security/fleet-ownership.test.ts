import t from 'tap'
import { docker } from '../../helpers/docker'
import { call, NO_DOCKERD, startFleet } from '../../helpers/hosts/fleet'

/**
 * The fleet list's ownership filter with containers present (issue 10: it
 * was asserted only on an empty list, test/e2e/hosts/hosts-claim): two daemons,
 * A's and B's containers on both. GET /hosts/_all/containers/json lists
 * exactly the caller's own containers -- compared with each daemon's own
 * list -- and admin every container; no filter widens a principal's view.
 */
t.test('the fleet list shows each principal exactly its own containers', { skip: NO_DOCKERD }, async t => {
  const { gw, daemons } = await startFleet(t, ['a', 'b'])
  const all = 'containers:read containers:write'
  const tokens = { alice: gw.token({ sub: 'alice', scope: all }), bob: gw.token({ sub: 'bob', scope: all }), admin: gw.token({ sub: 'root', scope: 'admin' }) }
  type Who = keyof typeof tokens

  const names: Record<string, string> = {}
  for (const host of ['a', 'b']) {
    for (const who of ['alice', 'bob', 'admin'] as const) {
      for (const i of [1, 2]) {
        const name = `${who}-${host}-${i}`
        const res = await call(gw, `/hosts/${host}/containers/create?name=${name}`, { method: 'POST', token: tokens[who], json: { Image: 'dgw-busybox:test', Cmd: ['sleep', '300'] } })
        t.equal(res.status, 201, `${name} created`)
        names[res.body.Id as string] = name
      }
    }
  }
  // One of each principal's containers running, so the state filter has something to tell apart.
  for (const [id, name] of Object.entries(names)) {
    if (name.endsWith('-1')) {
      const host = name.split('-')[1] as string
      t.equal((await docker(`/containers/${id}/start`, { method: 'POST', target: daemons[host] })).status, 204)
    }
  }

  /** Every container on both daemons, straight from the daemons: host:id -> owner label. */
  const truth = new Map<string, string | undefined>()
  for (const [host, d] of Object.entries(daemons)) {
    const list = await docker<Array<{ Id: string, Labels: Record<string, string> }>>('/containers/json', { query: { all: true }, target: d })
    for (const c of list.body) truth.set(`${host}:${c.Id}`, c.Labels['docker-gateway.owner'])
  }
  t.equal(truth.size, 12, 'twelve containers on the two daemons')
  const owned = (owner: string): string[] => [...truth].filter(([, o]) => o === owner).map(([k]) => k).sort()

  const fleet = async (who: Who, filters?: unknown): Promise<{ status: number, keys: string[], failed: unknown }> => {
    const q = filters !== undefined ? `&filters=${encodeURIComponent(JSON.stringify(filters))}` : ''
    const res = await call(gw, `/hosts/_all/containers/json?all=1${q}`, { token: tokens[who] })
    const keys = res.status === 200 ? (res.body as Array<{ Id: string, Host: string }>).map(c => `${c.Host}:${c.Id}`).sort() : []
    return { status: res.status, keys, failed: res.headers['x-docker-gateway-failed-hosts'] }
  }

  for (const who of ['alice', 'bob'] as const) {
    const res = await fleet(who)
    t.equal(res.status, 200)
    t.equal(res.failed, undefined, 'no host failed')
    t.equal(res.keys.length, 4, `${who}: two on each host`)
    t.same(res.keys, owned(who), `${who} sees exactly its own containers, as the daemons list them`)
  }
  const admin = await fleet('admin')
  t.same(admin.keys, [...truth.keys()].sort(), 'admin sees every container on both hosts')

  await t.test('filters only narrow a principal\'s view', async t => {
    const bobIds = owned('bob').map(k => k.split(':')[1] as string)
    const bobNames = bobIds.map(id => names[id] as string)
    t.same((await fleet('alice', { label: ['docker-gateway.owner=bob'] })).keys, [], "a label filter for B's owner label")
    t.same((await fleet('alice', { label: ['docker-gateway.owner'] })).keys, owned('alice'), 'the owner key alone')
    t.same((await fleet('alice', { id: bobIds })).keys, [], "B's ids")
    t.same((await fleet('alice', { name: bobNames })).keys, [], "B's names")
    t.same((await fleet('alice', { status: ['running'] })).keys, owned('alice').filter(k => names[k.split(':')[1] as string]?.endsWith('-1')), 'a state filter keeps to A\'s')
    t.same((await fleet('alice', { label: ['docker-gateway.owner=bob', 'docker-gateway.owner=alice'] })).keys, [], 'both owners ANDed: nothing')
  })

  await t.test("before/since naming B's container answer as for a missing one, and list nothing of B's", async t => {
    const bobA = owned('bob').find(k => k.startsWith('a:')) as string
    const bobId = bobA.split(':')[1] as string
    const missingId = 'f'.repeat(64)
    for (const f of ['before', 'since']) {
      const res = await call(gw, `/hosts/_all/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ [f]: [bobId] }))}`, { token: tokens.alice })
      const miss = await call(gw, `/hosts/_all/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ [f]: [missingId] }))}`, { token: tokens.alice })
      t.equal(res.status, miss.status, `${f}: same status`)
      t.same(res.body, miss.body, `${f}: same body`)
      t.equal(res.headers['x-docker-gateway-failed-hosts'], miss.headers['x-docker-gateway-failed-hosts'], `${f}: same failed hosts`)
      t.notOk(JSON.stringify(res.body).includes(bobId.slice(0, 12)), `${f}: nothing of B's`)
    }
  })
})
