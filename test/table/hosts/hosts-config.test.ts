import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { stringify } from 'yaml'
import { loadConfig } from '../../../src/config/load'
import { HostRegistry, hostConfigsFrom } from '../../../src/upstream/hosts'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgw-hosts-config-'))
t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
let n = 0
function load (data: unknown, env: Record<string, string> = {}): ReturnType<typeof loadConfig> {
  const file = path.join(dir, `c${n++}.yaml`)
  fs.writeFileSync(file, stringify(data))
  return loadConfig({ GATEWAY_CONFIG: file, ...env })
}

t.test('host names must be lower-case labels', async t => {
  for (const bad of ['Bad Name', 'A', '_all', '-x', 'a_b', 'x'.repeat(64)]) {
    t.throws(() => load({ hosts: { [bad]: { url: 'tcp://127.0.0.1:2375' } } }), { message: /invalid configuration: hosts/ }, JSON.stringify(bad))
  }
  t.ok(load({ hosts: { 'web-01': { url: 'tcp://127.0.0.1:2375' } } }))
  t.throws(() => load({ hosts: { a: { url: 'tcp://127.0.0.1:2375' } }, defaultHost: 'B' }), { message: /defaultHost/ })
})

t.test('defaults of the resilience keys', async t => {
  const c = load({ hosts: { a: { url: 'tcp://127.0.0.1:2375' } } })
  t.same(c.healthCheck, { intervalMs: 2000, timeoutMs: 1000, fall: 2, rise: 1, degradedLatencyMs: 500 })
  t.same(c.circuitBreaker, { failureThreshold: 3, halfOpenAfterMs: 5000 })
  t.same(c.fleet, { deadlineMs: 5000 })
  t.throws(() => load({ healthCheck: { intervalMs: 10 } }), { message: /healthCheck.intervalMs/ })
  t.throws(() => load({ healthCheck: { every: 10 } }), { message: /healthCheck.every.*unknown key/ })
})

t.test('per-host timeouts override the global ones', async t => {
  const c = load({
    upstreamTimeouts: { connect: 1000, headers: 2000 },
    hosts: { near: { url: 'tcp://127.0.0.1:2375' }, far: { url: 'tcp://127.0.0.1:2376', timeouts: { connect: 9000 } } }
  })
  const r = new HostRegistry(c)
  t.teardown(async () => { await r.destroy() })
  t.same(r.get('near')?.timeouts, { connect: 1000, headers: 2000, body: 300000 })
  t.same(r.get('far')?.timeouts, { connect: 9000, headers: 2000, body: 300000 })
  t.throws(() => load({ hosts: { a: { url: 'tcp://127.0.0.1:2375', timeouts: { read: 1 } } } }), { message: /hosts.a.timeouts.read/ })
})

t.test('a single GATEWAY_UPSTREAM is the host "default"', async t => {
  const c = loadConfig({ GATEWAY_UPSTREAM: 'tcp://127.0.0.1:2375' })
  const { hosts, defaultHost } = hostConfigsFrom(c)
  t.same([...hosts.keys()], ['default'])
  t.equal(defaultHost, 'default')
  const many = load({ hosts: { x: { url: 'tcp://127.0.0.1:1' }, y: { url: 'tcp://127.0.0.1:2' } } })
  t.equal(hostConfigsFrom(many).defaultHost, 'x', 'first configured host when defaultHost is unset')
  t.equal(hostConfigsFrom(load({ hosts: { x: { url: 'tcp://127.0.0.1:1' }, y: { url: 'tcp://127.0.0.1:2' } }, defaultHost: 'y' })).defaultHost, 'y')
})

t.test('reload: add, remove, change; a bad list changes nothing', async t => {
  const r = new HostRegistry(load({ hosts: { a: { url: 'tcp://127.0.0.1:1' }, b: { url: 'tcp://127.0.0.1:2' } } }))
  t.teardown(async () => { await r.destroy() })
  const a = r.get('a')
  const res = await r.reload(load({ hosts: { a: { url: 'tcp://127.0.0.1:1' }, c: { url: 'tcp://127.0.0.1:3' } }, defaultHost: 'c' }))
  t.same(res, { added: ['c'], removed: ['b'], changed: [], defaultHost: 'c' })
  t.equal(r.get('a'), a, 'an unchanged host keeps its pools and health')
  t.same(r.names(), ['a', 'c'])
  const res2 = await r.reload(load({ hosts: { a: { url: 'tcp://127.0.0.1:9' }, c: { url: 'tcp://127.0.0.1:3' } } }))
  t.same(res2.changed, ['a'])
  t.not(r.get('a'), a, 'a changed host is reopened')
  await t.rejects(r.reload(load({ hosts: { a: { url: 'ftp://127.0.0.1:9' }, d: { url: 'tcp://127.0.0.1:4' } } })), /unsupported scheme/)
  t.same(r.names(), ['a', 'c'], 'nothing applied from a list with a bad URL')
})

t.test('a host may be given as just its URL', async t => {
  const cases: Array<[string, unknown, Record<string, unknown>]> = [
    ['bare string', { a: 'tcp://10.0.0.1:2375' }, { a: { url: 'tcp://10.0.0.1:2375' } }],
    ['unix socket', { a: 'unix:///var/run/docker.sock' }, { a: { url: 'unix:///var/run/docker.sock' } }],
    ['mixed with the object form', { a: 'tcp://10.0.0.1:2375', b: { url: 'https://10.0.0.2:2376', ca: '/ca.pem' } },
      { a: { url: 'tcp://10.0.0.1:2375' }, b: { url: 'https://10.0.0.2:2376', ca: '/ca.pem' } }]
  ]
  for (const [name, hosts, expected] of cases) {
    const c = load({ hosts })
    t.same(c.hosts, expected, name)
    t.same(Object.fromEntries(hostConfigsFrom(c).hosts), expected, `${name}: the registry opens the same hosts`)
  }
  // A JSON config file reads the same way.
  const json = path.join(dir, 'short.json')
  fs.writeFileSync(json, JSON.stringify({ hosts: { a: 'tcp://10.0.0.1:2375' } }))
  t.same(loadConfig({ GATEWAY_CONFIG: json }).hosts, { a: { url: 'tcp://10.0.0.1:2375' } })

  // Errors still name the key: an empty URL, a list, a mistake in the long form.
  t.throws(() => load({ hosts: { a: '' } }), { message: /invalid configuration: hosts\.a\.url .*: Expected string length greater or equal to 1/ })
  t.throws(() => load({ hosts: { a: ['tcp://10.0.0.1:2375'] } }), { message: /invalid configuration: hosts\.a / })
  t.throws(() => load({ hosts: { a: { url: 'tcp://10.0.0.1:2375', tls: true } } }), { message: /hosts\.a\.tls .*unknown key/ })
  t.throws(() => load({ hosts: { Bad: 'tcp://10.0.0.1:2375' } }), { message: /invalid configuration: hosts/ })
  // The URL is checked when the host is opened, as for the long form.
  t.throws(() => new HostRegistry(load({ hosts: { a: 'ftp://10.0.0.1' } })), /unsupported scheme/)
})

t.test('reload: the short and the long form of one host are the same host', async t => {
  const r = new HostRegistry(load({ hosts: { a: { url: 'tcp://127.0.0.1:1' } } }))
  t.teardown(async () => { await r.destroy() })
  const a = r.get('a')
  const res = await r.reload(load({ hosts: { a: 'tcp://127.0.0.1:1', b: 'tcp://127.0.0.1:2' } }))
  t.same(res, { added: ['b'], removed: [], changed: [], defaultHost: 'a' })
  t.equal(r.get('a'), a, 'a keeps its pools')
})
