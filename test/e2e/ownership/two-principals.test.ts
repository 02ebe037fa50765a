import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'

/**
 * Two principals and an admin against the real daemon (issue 4 §2): neither
 * principal can observe or touch the other's containers through any route,
 * and every refusal reads exactly like a missing container.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('ownership', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const all = 'containers:read containers:write containers:export containers:exec'
    const tokens = {
      alice: gw.token({ sub: 'alice', scope: all }),
      bob: gw.token({ sub: 'bob', scope: all }),
      admin: gw.token({ sub: 'root', scope: 'admin' })
    }
    type Who = keyof typeof tokens
    const call = async (who: Who, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => {
      const res = await request(gw.url + path, {
        method,
        headers: { authorization: `Bearer ${tokens[who]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined
      })
      const text = await res.body.text()
      let json: any
      try { json = JSON.parse(text) } catch { json = undefined }
      return { status: res.statusCode, text, json }
    }
    const create = async (who: Who, name: string, extra: Record<string, unknown> = {}) =>
      await call(who, 'POST', `/containers/create?name=${name}`, {
        Image: d.image, Cmd: ['sh', '-c', 'echo hi; exec sleep 300'], Labels: { ...label.labels }, ...extra
      })

    const suffix = process.pid
    const a = await create('alice', `alice-a1-${suffix}`)
    t.equal(a.status, 201, a.text)
    const b = await create('bob', `bob-b1-${suffix}`)
    t.equal(b.status, 201, b.text)
    const aId = a.json.Id as string
    const bId = b.json.Id as string
    const bName = `bob-b1-${suffix}`
    for (const [who, id] of [['alice', aId], ['bob', bId]] as const) {
      t.equal((await call(who, 'POST', `/containers/${id}/start`)).status, 204)
    }

    await t.test('create stamps the owner label, and a client cannot choose it', async t => {
      const info = await docker(`/containers/${aId}/json`)
      t.equal(info.body.Config.Labels['docker-gateway.owner'], 'alice')
      const forged = await create('alice', `forged-${suffix}`, { Labels: { ...label.labels, 'docker-gateway.owner': 'bob' } })
      t.equal(forged.status, 403)
      t.match(forged.json.message, 'docker-gateway.owner')
    })

    await t.test('list shows each principal its own containers; admin sees both', async t => {
      const filter = encodeURIComponent(JSON.stringify({ label: [label.filter] }))
      const ids = async (who: Who, extra = '') => ((await call(who, 'GET', `/containers/json?all=1&filters=${extra !== '' ? encodeURIComponent(extra) : filter}`)).json as Array<{ Id: string }>).map(c => c.Id)
      t.same(await ids('alice'), [aId])
      t.same(await ids('bob'), [bId])
      t.same((await ids('admin')).sort(), [aId, bId].sort())

      // Filter-injection attempts: each can only narrow alice's own view.
      t.same(await ids('alice', JSON.stringify({ label: ['docker-gateway.owner=bob'] })), [], 'label naming the other owner')
      t.same(await ids('alice', JSON.stringify({ label: ['docker-gateway.owner'] })), [aId], 'owner key alone')
      t.same(await ids('alice', JSON.stringify({ id: [bId] })), [], 'id filter')
      t.same(await ids('alice', JSON.stringify({ name: [bName] })), [], 'name filter')
      const unfiltered = await call('alice', 'GET', '/containers/json?all=1')
      t.notOk((unfiltered.json as Array<{ Id: string }>).some(c => c.Id === bId), 'no filter at all')
      for (const f of ['before', 'since']) {
        const res = await call('alice', 'GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ [f]: [bId] }))}`)
        t.equal(res.status, 404, `${f} with the other's id`)
        t.same(res.json, { message: `No such container: ${bId}` })
      }
      const own = await call('alice', 'GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ since: [aId] }))}`)
      t.equal(own.status, 200, 'since with an own container is fine')
    })

    await t.test("every per-container route answers 404 for the other's container, by name, id and id prefix", async t => {
      const refs = [bName, bId, bId.slice(0, 12)]
      const routes: Array<['GET' | 'POST' | 'DELETE', string]> = [
        ['GET', '/json'], ['GET', '/top'], ['GET', '/logs?stdout=1'], ['GET', '/changes'],
        ['GET', '/stats?stream=false'], ['GET', '/export'], ['POST', '/stop?t=1'], ['POST', '/kill?signal=KILL'],
        ['POST', '/restart?t=1'], ['POST', '/pause'], ['POST', '/rename?name=stolen-' + String(suffix)], ['POST', '/wait'],
        ['DELETE', '?force=1']
      ]
      for (const ref of refs) {
        for (const [method, tail] of routes) {
          const res = await call('alice', method, `/containers/${ref}${tail}`)
          t.equal(res.status, 404, `${method} ${tail} by ${ref === bName ? 'name' : ref.length === 64 ? 'id' : 'prefix'}`)
          t.same(res.json, { message: `No such container: ${ref}` }, "the daemon's own words")
        }
      }
      const still = await docker(`/containers/${bId}/json`)
      t.equal(still.body.State.Running, true, "bob's container is untouched")
      t.equal(still.body.Name, `/${bName}`, 'and keeps its name')
    })

    await t.test("a name conflict does not reveal the other principal's container id", async t => {
      const taken = await create('alice', bName)
      t.equal(taken.status, 409)
      t.notMatch(taken.text, bId, 'create: no id in the conflict message')
      t.match(taken.json.message, 'already in use by another container')
      const renamed = await call('alice', 'POST', `/containers/${aId}/rename?name=${bName}`)
      t.equal(renamed.status, 409)
      t.notMatch(renamed.text, bId, 'rename: no id in the conflict message')
    })

    await t.test('the owner itself reaches its container by name, id and prefix', async t => {
      for (const ref of [bName, bId, bId.slice(0, 12)]) {
        t.equal((await call('bob', 'GET', `/containers/${ref}/json`)).status, 200)
      }
    })

    await t.test('joins of a container the caller does not own are refused', async t => {
      for (const [field, extra] of [
        ['VolumesFrom', { HostConfig: { VolumesFrom: [bName] } }],
        ['NetworkMode', { HostConfig: { NetworkMode: `container:${bName}` } }],
        ['PidMode', { HostConfig: { PidMode: `container:${bId}` } }],
        ['Links', { HostConfig: { Links: [`${bName}:db`] } }]
      ] as const) {
        const res = await create('alice', `join-${field.toLowerCase()}-${suffix}`, extra)
        t.equal(res.status, 403, field)
        t.match(res.json.message, field)
      }
      const joinOwn = await create('alice', `join-own-${suffix}`, { HostConfig: { NetworkMode: `container:alice-a1-${suffix}` } })
      t.equal(joinOwn.status, 201, 'joining an own container is fine')
      const info = await docker(`/containers/${joinOwn.json.Id as string}/json`)
      t.equal(info.body.HostConfig.NetworkMode, `container:${aId}`, 'forwarded by full id, not by name')
    })

    await t.test('rename keeps ownership', async t => {
      t.equal((await call('alice', 'POST', `/containers/${aId}/rename?name=alice-renamed-${suffix}`)).status, 204)
      t.equal((await call('alice', 'GET', `/containers/alice-renamed-${suffix}/json`)).status, 200)
      t.equal((await call('bob', 'GET', `/containers/alice-renamed-${suffix}/json`)).status, 404)
      const info = await docker(`/containers/${aId}/json`)
      t.equal(info.body.Config.Labels['docker-gateway.owner'], 'alice')
    })

    await t.test('exec ids belong to the owner of their container', async t => {
      const exec = await call('alice', 'POST', `/containers/${aId}/exec`, { Cmd: ['echo', 'x'], AttachStdout: true })
      t.equal(exec.status, 201, exec.text)
      const execId = exec.json.Id as string
      t.equal((await call('alice', 'GET', `/exec/${execId}/json`)).status, 200)
      const stolen = await call('bob', 'GET', `/exec/${execId}/json`)
      t.equal(stolen.status, 404)
      t.same(stolen.json, { message: `No such exec instance: ${execId}` })
      t.equal((await call('bob', 'POST', `/containers/${aId}/exec`, { Cmd: ['id'] })).status, 404, 'bob cannot exec in alice\'s container')
    })

    await t.test('admin acts on everyone\'s containers', async t => {
      t.equal((await call('admin', 'GET', `/containers/${bName}/json`)).status, 200)
      t.equal((await call('admin', 'POST', `/containers/${bId}/stop?t=1`)).status, 204)
      t.equal((await docker(`/containers/${bId}/json`)).body.State.Running, false)
      t.equal((await call('bob', 'DELETE', `/containers/${bId}?force=1`)).status, 204, 'and bob removes his own')
    })
  })
}
