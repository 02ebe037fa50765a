import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { makeTar } from '../../helpers/tar'

/**
 * docker cp on a daemon older than Docker Engine 29.5.1, with the default
 * dockerCp: auto: refused before the daemon sees it, in every direction. A
 * process in the caller's own container could race the copy's mount setup
 * onto host paths (CVE-2026-41568, CVE-2026-42306); this machine's dockerd
 * 20.10 is such a daemon. Nothing is written into the container.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('dockerCp auto on an unpatched daemon: GET, HEAD and PUT archive are a 403 naming the fix', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const version = ((await docker('/version')).body as { Version: string }).Version
    t.ok(!/^(29\.(5\.[1-9]|[6-9])|[3-9]\d\.)/.test(version), `this daemon predates the fix (${version})`)
    const auth = { authorization: `Bearer ${gw.token({ sub: 'cp-user', scope: 'containers:read containers:write containers:export' })}` }
    const created = await request(`${gw.url}/containers/create`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ Image: d.image, Cmd: ['sleep', '60'], Labels: label.labels }) })
    t.equal(created.statusCode, 201)
    const id = (await created.body.json() as { Id: string }).Id

    for (const method of ['GET', 'HEAD'] as const) {
      const res = await request(`${gw.url}/containers/${id}/archive?path=/etc/hostname`, { method, headers: auth })
      t.equal(res.statusCode, 403, `${method} archive`)
      if (method === 'GET') t.match(await res.body.json(), { message: /docker cp is refused for this daemon.*CVE-2026-41568/ })
      else await res.body.dump()
    }
    const put = await request(`${gw.url}/containers/${id}/archive?path=/tmp`, {
      method: 'PUT', headers: { ...auth, 'content-type': 'application/x-tar' }, body: makeTar([{ name: 'planted', body: 'x' }])
    })
    t.equal(put.statusCode, 403, 'PUT archive')
    await put.body.dump()
    const stat = await docker(`/containers/${id}/archive?path=/tmp/planted`, { method: 'HEAD' })
    t.equal(stat.status, 404, 'nothing was written into the container')
  })

  t.test('dockerCp off refuses even a patched daemon; on serves this one', async t => {
    const off = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_DOCKER_CP: 'off' })
    const on = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_DOCKER_CP: 'on' })
    const created = await docker('/containers/create', { json: { Image: d.image, Cmd: ['sleep', '60'], Labels: { ...label.labels, 'docker-gateway.owner': 'cp-user' } } })
    const id = (created.body as { Id: string }).Id
    const token = (gw: typeof on): Record<string, string> => ({ authorization: `Bearer ${gw.token({ sub: 'cp-user', scope: 'containers:export' })}` })
    const refused = await request(`${off.url}/containers/${id}/archive?path=/etc`, { method: 'HEAD', headers: token(off) })
    t.equal(refused.statusCode, 403, 'off')
    await refused.body.dump()
    const served = await request(`${on.url}/containers/${id}/archive?path=/etc`, { method: 'HEAD', headers: token(on) })
    t.equal(served.statusCode, 200, 'on')
    t.ok(served.headers['x-docker-container-path-stat'], 'the stat header of the path')
    await served.body.dump()
  })
}
