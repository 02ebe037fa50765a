import t from 'tap'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { stringify } from 'yaml'
import { loadConfig } from '../../../src/config/load'
import { HostRegistry } from '../../../src/upstream/hosts'
import { fanOutContainerList } from '../../../src/upstream/fanout'
import { routes } from '../../../src/docker/routes'

// The fan-out against stand-in daemons: one answers, one never answers the
// list, one answers an error, one is not listening. The call returns by the
// deadline with the answering host's items and the three others reported.
const listRoute = routes.find(r => r.id === 'container.list')!

async function fakeDaemon (t: { teardown: (fn: () => unknown) => void }, onList: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((req, res) => {
    if (req.url === '/_ping') { res.setHeader('api-version', '1.41'); res.end('OK'); return }
    onList(req, res)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) })
  return `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('fan-out with a per-host deadline', async t => {
  const queries: Record<string, string> = {}
  const fast = await fakeDaemon(t, (req, res) => {
    queries.fast = req.url ?? ''
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify([{ Id: 'old', Created: 100 }, { Id: 'new', Created: 300 }]))
  })
  const hung = await fakeDaemon(t, () => { /* never answers */ })
  const failing = await fakeDaemon(t, (_req, res) => { res.statusCode = 500; res.end('{"message":"boom"}') })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgw-fanout-'))
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  const file = path.join(dir, 'g.yaml')
  fs.writeFileSync(file, stringify({
    hosts: { fast: { url: fast }, hung: { url: hung }, failing: { url: failing }, gone: { url: 'tcp://127.0.0.1:1' } },
    circuitBreaker: { failureThreshold: 1, halfOpenAfterMs: 60_000 }
  }))
  const registry = new HostRegistry(loadConfig({ GATEWAY_CONFIG: file, GATEWAY_TLS: 'off' }))
  t.teardown(async () => { await registry.destroy() })

  const seen: string[] = []
  const t0 = performance.now()
  const result = await fanOutContainerList({
    hosts: registry.all(),
    route: listRoute,
    version: '1.41',
    params: new Map([['all', '1']]),
    filters: { label: ['x=y'] },
    // The ownership hook: called per host, may rewrite the filters.
    transformFilters: (host, filters) => {
      seen.push(host.name)
      return { ...filters, label: [...(filters?.label ?? []), `owner=${host.name}`] }
    },
    deadlineMs: 1500
  })
  const ms = performance.now() - t0
  t.ok(ms >= 1400 && ms < 3000, `answered at the deadline, not later (${ms.toFixed(0)} ms)`)
  t.same(result.items, [{ Id: 'new', Created: 300, Host: 'fast' }, { Id: 'old', Created: 100, Host: 'fast' }], 'newest first, each with its Host')
  t.same(Object.fromEntries(result.failed.map(f => [f.host, f.reason])), {
    hung: 'deadline exceeded',
    failing: 'daemon answered 500: boom',
    gone: 'ECONNREFUSED'
  })
  t.same(seen.sort(), ['failing', 'fast', 'gone', 'hung'])
  const q = new URL(queries.fast ?? '', 'http://x')
  t.equal(q.pathname, '/v1.41/containers/json')
  t.same(JSON.parse(q.searchParams.get('filters') ?? ''), { label: ['x=y', 'owner=fast'] })

  // Transport failures opened the hung and gone hosts' circuits: the next
  // fan-out does not wait for them at all.
  t.equal(registry.get('hung')?.breaker.state, 'open')
  t.equal(registry.get('gone')?.breaker.state, 'open')
  t.equal(registry.get('failing')?.breaker.state, 'closed', 'an error answer is an answer')
  const t1 = performance.now()
  const again = await fanOutContainerList({ hosts: registry.all(), route: listRoute, params: new Map(), deadlineMs: 5000 })
  t.ok(performance.now() - t1 < 1000, 'open circuits fail at once, long before the deadline')
  t.match(Object.fromEntries(again.failed.map(f => [f.host, f.reason])), { hung: /^unavailable: /, gone: /^unavailable: / })
})
