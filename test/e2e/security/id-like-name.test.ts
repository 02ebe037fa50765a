import t from 'tap'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startGateway } from '../../helpers/gateway'
import { send } from '../../helpers/policy/client'

/**
 * Issue 10 review, names that impersonate IDs: dockerd's GetContainer matches
 * a name before an ID prefix, so A's container named like the short ID of B's
 * (the 12 hex digits docker ps shows) answered an admin's
 * `GET /containers/<short id>/json` instead of B's. A create or rename to a
 * name of 12 to 64 hex digits is now a 400 in Docker's shape; asserted on the
 * daemon: no container has that name, the admin's lookup reaches B's.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })
  const scope = 'containers:read containers:write'

  const named = async (name: string): Promise<string[]> =>
    (await docker<Array<{ Id: string }>>('/containers/json', { query: { all: true, filters: { name: [`^/${name}$`] } } })).body.map(c => c.Id)

  t.test('A cannot create or rename a container to B\'s short ID; the admin\'s short-ID lookup still reaches B\'s', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const bob = gw.token({ sub: 'bob', scope })
    const alice = gw.token({ sub: 'alice', scope })
    const admin = gw.token({ sub: 'root', scope: 'admin' })

    const b = await send(`${gw.url}/containers/create`, bob, 'POST', { Image: d.image, Cmd: ['true'], Labels: label.labels })
    t.equal(b.status, 201, b.text)
    const bId = b.json.Id as string
    const short = bId.slice(0, 12)

    for (const name of [short, `/${short}`, bId]) {
      const res = await send(`${gw.url}/containers/create?name=${encodeURIComponent(name)}`, alice, 'POST', { Image: d.image, Cmd: ['true'], Labels: label.labels })
      t.equal(res.status, 400, `create ?name=${name}: 400`)
      t.match(res.json, { message: /^Invalid container name \(.*\): a name of 12 to 64 hex digits would be taken for a container ID$/ }, 'Docker-shaped body')
    }
    t.same(await named(short), [], 'no container is named like B\'s short ID')
    t.same(await named(bId), [], 'nor like its full ID')

    const a = await send(`${gw.url}/containers/create?name=alice-web`, alice, 'POST', { Image: d.image, Cmd: ['true'], Labels: label.labels })
    t.equal(a.status, 201, `control: an ordinary name is created: ${a.text}`)
    const renamed = await send(`${gw.url}/containers/${a.json.Id as string}/rename?name=${short}`, alice, 'POST')
    t.equal(renamed.status, 400, 'rename to B\'s short ID: 400')
    t.match(renamed.json?.message, /^Invalid container name/)
    t.equal((await docker(`/containers/${a.json.Id as string}/json`)).body.Name, '/alice-web', 'A\'s container keeps its name')
    t.same(await named(short), [])

    const lookup = await send(`${gw.url}/containers/${short}/json`, admin, 'GET')
    t.equal(lookup.status, 200)
    t.equal(lookup.json.Id, bId, 'the admin\'s GET by short ID reaches B\'s container')

    const ok = await send(`${gw.url}/containers/${a.json.Id as string}/rename?name=alice-web2`, alice, 'POST')
    t.equal(ok.status, 204, 'control: an ordinary rename works')
    t.equal((await docker(`/containers/${a.json.Id as string}/json`)).body.Name, '/alice-web2')
  })
}
