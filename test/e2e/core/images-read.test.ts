import t from 'tap'
import { request } from 'undici'
import { requireDaemon } from '../../helpers/env'
import { docker } from '../../helpers/docker'
import { pushImage, removeImage, requireRegistry, startRegistry } from '../../helpers/registry'
import { startWatchedGateway, type WatchedGateway } from '../../helpers/security/gateway-app'
import { requestHead, talk } from '../../helpers/security/raw-http'

/**
 * Issue 13 item 2: `GET /images/json` and `GET /images/{name}/json` with
 * images:read, on the real app and daemon. Images are daemon-wide: every
 * principal sees the daemon's own answer. A name holds slashes and colons
 * (`127.0.0.1:PORT/library/busybox:1`), sent unescaped as Docker clients do.
 */
const d = requireDaemon(t)

async function get (gw: WatchedGateway, path: string, token: string): Promise<{ status: number, body: any }> {
  const res = await request(gw.url + path, { headers: { authorization: `Bearer ${token}` } })
  const text = await res.body.text()
  let body: any = text
  try { body = JSON.parse(text) } catch {}
  return { status: res.statusCode, body }
}

if (d !== undefined && requireRegistry(t)) {
  t.test('images, read-only', async t => {
    const reg = await startRegistry(t)
    // A local name with a registry host, a port and a path: 127.0.0.1:PORT/library/busybox:1.
    const pushed = await pushImage(reg, { repo: 'library/busybox', tag: '1' })
    t.teardown(async () => { await removeImage(pushed.ref) })
    const gw = await startWatchedGateway(t, { GATEWAY_UPSTREAM: d.url })
    const alice = gw.token('alice', 'images:read')
    const bob = gw.token('bob', 'images:read')

    t.test('the list is the daemon\'s, the same for every principal', async t => {
      const direct = await docker<Array<{ Id: string }>>('/images/json')
      const a = await get(gw, '/images/json', alice)
      const b = await get(gw, '/v1.41/images/json', bob)
      t.equal(a.status, 200)
      t.same(a.body.map((i: { Id: string }) => i.Id).sort(), direct.body.map(i => i.Id).sort(), 'what the daemon lists')
      t.same(b.body.map((i: { Id: string }) => i.Id).sort(), direct.body.map(i => i.Id).sort(), 'another principal sees the same')
      t.ok(a.body.some((i: { RepoTags: string[] | null }) => i.RepoTags?.includes(pushed.ref)), 'the pushed tag is listed')
    })

    t.test('filters are forwarded (reference, dangling), unknown filter names refused', async t => {
      const f = encodeURIComponent(JSON.stringify({ reference: [`${reg.host}/library/*`], dangling: ['false'] }))
      const res = await get(gw, `/images/json?digests=1&filters=${f}`, alice)
      t.equal(res.status, 200)
      t.same(res.body.flatMap((i: { RepoTags: string[] }) => i.RepoTags), [pushed.ref], 'only the image the reference filter names')
      t.ok(res.body[0].RepoDigests.some((r: string) => r.endsWith(pushed.digest)), 'digests=1: RepoDigests carries the pushed digest')
      const bad = await get(gw, `/images/json?filters=${encodeURIComponent('{"status":["running"]}')}`, alice)
      t.equal(bad.status, 400)
      t.same(bad.body, { message: "invalid filter 'status'" })
    })

    t.test('inspect by a name with slashes and colons, under every prefix, by ID', async t => {
      for (const path of [`/images/${pushed.ref}/json`, `/v1.41/images/${pushed.ref}/json`, `/hosts/default/images/${pushed.ref}/json`, `/images/${pushed.imageId}/json`, `/images/${d.image}/json`]) {
        const res = await get(gw, path, alice)
        t.equal(res.status, 200, `${path}: ${JSON.stringify(res.body).slice(0, 200)}`)
      }
      const res = await get(gw, `/images/${pushed.ref}/json`, alice)
      t.equal(res.body.Id, pushed.imageId, 'the image the daemon holds under that name')
      t.ok(res.body.RepoTags.includes(pushed.ref))
    })

    t.test('an absent image is the daemon\'s 404; other image paths are not in the allow-list', async t => {
      const absent = await get(gw, `/images/${reg.host}/nothing:1/json`, alice)
      t.equal(absent.status, 404)
      t.match(absent.body.message, /No such image/)
      for (const path of [`/images/${pushed.ref}/history`, `/images/${pushed.ref}`, `/images/${pushed.ref}/get`, '/images/search?term=x']) {
        const res = await get(gw, path, alice)
        t.same([res.status, res.body], [404, { message: 'page not found' }], path)
      }
      const escaped = await get(gw, `/images/${encodeURIComponent(pushed.ref)}/json`, alice)
      t.equal(escaped.status, 400, 'a percent-escaped name is refused by the canonical-path guard')
      // Raw bytes: an HTTP client library would resolve the dots before sending.
      for (const path of ['/images/x/../../containers/json', '/images/./x/json', '/images/x//json']) {
        const raw = await talk(gw.port, [requestHead('GET', path, { authorization: `Bearer ${alice}`, connection: 'close' })])
        t.equal(raw.status, 400, `${path}: ${raw.body}`)
      }
    })

    t.test('images:read is needed, and grants nothing else', async t => {
      const noScope = await get(gw, '/images/json', gw.token('carol', 'containers:read'))
      t.same([noScope.status, noScope.body], [403, { message: 'token lacks the scope "images:read" needed for GET /images/json' }])
      const inspect = await get(gw, `/images/${pushed.ref}/json`, gw.token('carol', 'containers:read'))
      t.same([inspect.status, inspect.body], [403, { message: 'token lacks the scope "images:read" needed for GET /images/:name/json' }])
      const containers = await get(gw, '/containers/json', alice)
      t.equal(containers.status, 403, 'images:read lists no containers')
    })
  })
}
