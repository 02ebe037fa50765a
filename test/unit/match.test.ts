import t from 'tap'
import { matchRequest, type VersionRange } from '../../src/docker/match'

const range: VersionRange = { min: { major: 1, minor: 24 }, max: { major: 1, minor: 43 } }
const ID = 'a'.repeat(64)

// [method, url, expected route id | status, expected message fragment?]
const cases: Array<[string, string, string | number, string?]> = [
  ['GET', '/containers/json', 'container.list'],
  ['GET', '/v1.41/containers/json?all=1', 'container.list'],
  ['GET', '/v1.24/containers/json', 'container.list'],
  ['GET', '/_ping', 'ping'],
  ['HEAD', '/_ping', 'ping'],
  ['HEAD', '/v1.41/_ping', 'ping'],
  ['GET', '/version', 'version'],
  ['POST', '/containers/create?name=web01', 'container.create'],
  ['GET', '/containers/web01/json', 'container.inspect'],
  ['GET', '/containers/abc123def456/top', 'container.top'],
  ['GET', '/containers/web01/logs', 'container.logs'],
  ['GET', '/containers/web01/changes', 'container.changes'],
  ['GET', '/containers/web01/export', 'container.export'],
  ['GET', '/containers/web01/stats', 'container.stats'],
  ['POST', '/containers/web01/start', 'container.start'],
  ['POST', '/containers/web01/stop', 'container.stop'],
  ['POST', '/containers/web01/restart', 'container.restart'],
  ['POST', '/containers/web01/kill', 'container.kill'],
  ['POST', '/containers/web01/rename', 'container.rename'],
  ['DELETE', '/containers/web01', 'container.delete'],
  ['POST', '/containers/web01/wait', 'container.wait'],
  ['POST', '/containers/web01/attach', 'container.attach'],
  ['GET', '/containers/web01/attach/ws', 'container.attachWs'],
  ['POST', '/containers/web01/exec', 'exec.create'],
  ['POST', `/exec/${ID}/start`, 'exec.start'],
  ['GET', `/exec/${ID}/json`, 'exec.inspect'],
  ['GET', '/hosts/a/containers/json', 'container.list'],
  ['GET', '/hosts/a/v1.41/containers/json', 'container.list'],
  // Not in the allow-list: dockerd's own answer.
  ['GET', '/images/json', 404, 'page not found'],
  ['GET', '/containers/create', 404, 'page not found'],
  ['POST', '/containers/json', 404, 'page not found'],
  ['PUT', '/containers/web01/archive', 404, 'page not found'],
  ['GET', '/containers/web01/archive', 404, 'page not found'],
  ['POST', '/containers/prune', 404, 'page not found'],
  ['GET', '/', 404, 'page not found'],
  ['GET', 'containers/json', 404, 'page not found'],
  ['GET', '/containers/json/', 400, 'empty or dot'],
  // Encoded slashes and dots: the daemon decodes before routing.
  ['POST', '/containers%2Fcreate', 400, 'percent-encoded'],
  ['GET', '/containers/%2e%2e/json', 400, 'percent-encoded'],
  ['GET', '/containers/web01%2Fjson', 400, 'percent-encoded'],
  ['GET', '/containers/web01/../../images/json', 400, 'dot segments'],
  ['GET', '/containers/./json', 400, 'dot segments'],
  ['GET', '//containers/json', 400, 'empty or dot'],
  ['GET', '/containers//json', 400, 'empty or dot'],
  // Version prefixes: canonical v1.N only, inside the range.
  ['GET', '/v01.043/containers/json', 400, 'use the form v1.N'],
  ['GET', '/v1.43.0/containers/json', 400, 'use the form v1.N'],
  ['GET', '/v1.041/containers/json', 400, 'use the form v1.N'],
  ['GET', '/v2.0/containers/json', 400, 'use the form v1.N'],
  ['GET', '/v1/containers/json', 400, 'use the form v1.N'],
  ['GET', '/v1.20/containers/json', 400, 'too old'],
  ['GET', '/v1.44/containers/json', 400, 'too new'],
  ['GET', '/v1.41/v1.41/containers/json', 404, 'page not found'],
  // Container references.
  ['GET', '/containers/-x/json', 400, 'invalid container name'],
  ['GET', '/containers/a/json', 400, 'invalid container name'],
  ['GET', '/containers/we b/json', 400, 'invalid container name'],
  ['GET', '/exec/notanid/json', 404, 'No such exec instance'],
  ['GET', '/hosts/UPPER/containers/json', 400, 'invalid host name']
]

for (const [method, url, want, fragment] of cases) {
  t.test(`${method} ${url}`, async t => {
    const m = matchRequest(method, url, range)
    if (typeof want === 'string') {
      t.ok(m.ok, 'matched')
      if (m.ok) t.equal(m.route.id, want)
    } else {
      t.notOk(m.ok, 'refused')
      if (!m.ok) {
        t.equal(m.status, want)
        t.match(m.message, fragment ?? '')
      }
    }
  })
}

t.test('parts are returned for the upstream path to be rebuilt', async t => {
  const m = matchRequest('GET', '/hosts/b/v1.41/containers/web01/logs?follow=1', range)
  t.match(m, { ok: true, host: 'b', version: '1.41', target: 'web01', rawQuery: 'follow=1' })
})

t.test('without a configured maximum, any v1.N above the minimum passes (the daemon decides)', async t => {
  const m = matchRequest('GET', '/v1.99/containers/json', { min: { major: 1, minor: 24 } })
  t.match(m, { ok: true, version: '1.99' })
})
