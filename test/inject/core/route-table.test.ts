import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../../src/app'
import { loadConfig } from '../../../src/config/load'
import { routes } from '../../../src/docker/routes'
import { ROUTE_PREFIXES, routeUrl } from '../../../src/docker/route-schemas'
import { checkCanonicalPath } from '../../../src/docker/canonical-path'
import { mintToken, TEST_SECRET } from '../../helpers/gateway'

/**
 * The allow-list as fastify routes, on the real app (buildApp) with inject:
 * which route a URL reaches, and what is refused before any route. A token
 * with no scope at all makes every matched route answer 403 naming its own
 * template, so the match is read off the answer without a daemon; the
 * version and parameter checks run with an admin token and fail before any
 * daemon call (the upstream is a closed port). inject() normalises dot
 * segments itself, so those are checked on the pure guard here and over raw
 * sockets in test/e2e/core/bad-input.
 */

const ID = 'a'.repeat(64)

async function app (t: { teardown: (fn: () => unknown) => void }): Promise<FastifyInstance> {
  const config = loadConfig({ GATEWAY_TLS: 'off', GATEWAY_LOG_LEVEL: 'silent', GATEWAY_UPSTREAM: 'tcp://127.0.0.1:1', GATEWAY_API_VERSION_MAX: '1.43' })
  const a = await buildApp({ config, jwtSecret: TEST_SECRET })
  t.teardown(async () => { await a.close() })
  await a.ready()
  return a
}

const noScope = { authorization: `Bearer ${mintToken(TEST_SECRET, { scope: '' })}` }
const admin = { authorization: `Bearer ${mintToken(TEST_SECRET, { scope: 'admin' })}` }

t.test('printRoutes shows every allow-list row under its four prefixes', async t => {
  const a = await app(t)
  for (const row of routes) {
    for (const prefix of ROUTE_PREFIXES) {
      t.ok(a.hasRoute({ method: row.method, url: routeUrl(row, prefix) }), `${row.method} ${routeUrl(row, prefix)}`)
    }
  }
  const printed = a.printRoutes({ commonPrefix: false })
  t.ok(printed.includes('/:host/v:version/containers/:id (DELETE)'), 'printRoutes lists the mirrored routes')
  t.ok(printed.includes('/_all/containers/json (GET)'), 'and the fleet view')
  t.notOk(a.hasRoute({ method: 'HEAD', url: '/containers/json' }), 'a GET row is not also a HEAD route')
})

// [method, url, the row's template it reaches]
const reached: Array<[string, string, string]> = [
  ['GET', '/containers/json', 'GET /containers/json'],
  ['GET', '/v1.41/containers/json?all=1', 'GET /containers/json'],
  ['HEAD', '/_ping', 'HEAD /_ping'],
  ['HEAD', '/v1.41/_ping', 'HEAD /_ping'],
  ['GET', '/version', 'GET /version'],
  ['POST', '/containers/create?name=web01', 'POST /containers/create'],
  ['GET', '/containers/web01/json', 'GET /containers/:id/json'],
  ['GET', '/containers/abc123def456/top', 'GET /containers/:id/top'],
  ['DELETE', '/containers/web01', 'DELETE /containers/:id'],
  ['GET', '/containers/web01/attach/ws', 'GET /containers/:id/attach/ws'],
  ['POST', `/exec/${ID}/start`, 'POST /exec/:exec/start'],
  ['GET', '/hosts/a/containers/json', 'GET /containers/json'],
  ['GET', '/hosts/a/v1.41/containers/json', 'GET /containers/json'],
  ['GET', '/hosts/_all/containers/json', 'GET /hosts/_all/containers/json'],
  ['GET', '/hosts', 'GET /hosts'],
  // Static segments win over :id: prune is its own row, not a container named "prune".
  ['POST', '/containers/prune', 'POST /containers/prune'],
  ['POST', '/v1.41/containers/prune', 'POST /containers/prune'],
  ['GET', '/events', 'GET /events'],
  ['GET', '/hosts/a/v1.41/events', 'GET /events']
]

t.test('a URL reaches its row (the 403 of a scopeless token names it)', async t => {
  const a = await app(t)
  for (const [method, url, template] of reached) {
    const res = await a.inject({ method: method as 'GET', url, headers: noScope })
    t.equal(res.statusCode, 403, `${method} ${url}`)
    if (method !== 'HEAD') t.match(res.json().message, `needed for ${template}`, `${method} ${url} -> ${template}`)
  }
})

// [method, url, status, message fragment] with an admin token: refused before any daemon call.
const refused: Array<[string, string, number, string]> = [
  ['GET', '/build', 404, 'page not found'],
  ['POST', '/build', 404, 'page not found'],
  ['POST', '/images/load', 404, 'page not found'],
  ['GET', '/images/get', 404, 'page not found'],
  ['GET', '/images/busybox/history', 404, 'page not found'],
  ['GET', '/images/busybox/get', 404, 'page not found'],
  ['GET', '/images/busybox', 404, 'page not found'],
  ['POST', '/images/busybox/push', 404, 'page not found'],
  ['POST', '/images/busybox/tag', 404, 'page not found'],
  ['DELETE', '/images/busybox', 404, 'page not found'],
  ['POST', '/images/prune', 404, 'page not found'],
  ['GET', '/images/search', 404, 'page not found'],
  ['POST', '/commit', 404, 'page not found'],
  ['GET', '/containers/create', 404, 'page not found'],
  ['POST', '/containers/json', 404, 'page not found'],
  ['PUT', '/containers/web01/json', 404, 'page not found'],
  ['PUT', '/containers/web01/archive', 400, 'bad parameter: path cannot be empty'],
  ['GET', '/containers/web01/archive?path=%00', 400, 'no control characters'],
  ['GET', '/', 404, 'page not found'],
  ['GET', '/vfoo/containers/json', 404, 'page not found'],
  ['GET', '/hosts/_all/containers/web01/json', 404, 'page not found'],
  ['GET', '/containers/json/', 400, 'empty or dot'],
  ['POST', '/containers%2Fcreate', 400, 'percent-encoded'],
  ['GET', '/containers/web01%2Fjson', 400, 'percent-encoded'],
  ['GET', '//containers/json', 400, 'empty or dot'],
  ['GET', '/v01.043/containers/json', 400, 'use the form v1.N'],
  ['GET', '/v1.43.0/containers/json', 400, 'use the form v1.N'],
  ['GET', '/v1/containers/json', 400, 'use the form v1.N'],
  ['GET', '/v1.20/containers/json', 400, 'too old'],
  ['GET', '/v1.44/containers/json', 400, 'too new'],
  ['GET', '/v1.41/v1.41/containers/json', 404, 'page not found'],
  ['GET', '/containers/-x/json', 400, 'invalid container name or ID "-x"'],
  ['GET', '/containers/a/json', 400, 'invalid container name'],
  ['GET', '/exec/notanid/json', 404, 'No such exec instance: notanid'],
  ['GET', '/hosts/UPPER/containers/json', 400, 'invalid host name'],
  ['GET', '/containers/json?limit=ten', 400, 'expected an integer'],
  ['GET', '/events?since=10m', 400, '"since": expected unix seconds'],
  ['GET', '/events?since=2&until=1', 400, 'cannot be after'],
  ['GET', '/hosts/_all/events', 404, 'page not found'],
  ['POST', `/containers/prune?filters=${encodeURIComponent('{"status":["exited"]}')}`, 400, "invalid filter 'status'"]
]

t.test('refusals before any daemon call, in Docker\'s shape', async t => {
  const a = await app(t)
  for (const [method, url, status, fragment] of refused) {
    const res = await a.inject({ method: method as 'GET', url, headers: admin })
    t.equal(res.statusCode, status, `${method} ${url}`)
    t.equal(res.headers['content-type'], 'application/json', `${method} ${url}: Docker's error type`)
    t.match(res.json(), { message: fragment }, `${method} ${url}`)
  }
})

t.test('checkCanonicalPath: one spelling per path', async t => {
  const ok = ['/containers/json', '/v1.41/containers/json', '/hosts/a/v1.41/containers/json', '/version', '/vfoo/x', '/hosts', '/containers/json?x=%2F', '/v1.041', '/hosts/Bad', '/...x/a', '/a/.b', '/?x=/./']
  for (const url of ok) t.equal(checkCanonicalPath(url), undefined, url)
  const bad: Array<[string, string]> = [
    ['/containers%2fcreate', 'percent'], ['/a/..', 'dot'], ['/.', 'dot'], ['/a/b/.?x', 'dot'], ['/containers/%2e%2e/json', 'percent'], ['/containers/web01/../../images/json', 'dot'], ['/a//b', 'empty'], ['/a/./b', 'dot'], ['/a/../b', 'dot'], ['/a/', 'empty'],
    ['/v1.041/containers/json', 'v1.N'], ['/hosts/a/v01.41/containers/json', 'v1.N'], ['/hosts/A_B/containers/json', 'invalid host name']
  ]
  for (const [url, fragment] of bad) t.match(checkCanonicalPath(url), { status: 400, message: fragment }, url)
})

t.test('what the router refuses before any hook: Docker-shaped, the path not echoed, audited', async t => {
  const a = await app(t)
  const long = 'a'.repeat(300)
  const res = await a.inject({ method: 'GET', url: `/containers/${long}/json`, headers: admin })
  t.equal(res.statusCode, 414)
  t.equal(res.headers['content-type'], 'application/json')
  t.same(res.json(), { message: 'invalid request path: a path segment is longer than 256 characters' })
  t.notMatch(res.body, long, 'the path is not echoed')
  const ok = await a.inject({ method: 'GET', url: `/containers/${'b'.repeat(200)}/json`, headers: noScope })
  t.equal(ok.statusCode, 403, 'a 200-character name is routed (it reaches its row)')
})

t.test('an absolute-form request target is refused like a non-canonical path', async t => {
  t.match(checkCanonicalPath('http://x/images/x/../../containers/abc/json'), { status: 400, message: 'send a path, not a URL' })
  t.match(checkCanonicalPath('HTTP://x/containers/json'), { status: 400 })
})
