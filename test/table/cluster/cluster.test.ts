// The pure parts of running several workers (src/cluster): how many, the
// primary's shared rate counts, the worker's IPC link, the banner.
import t from 'tap'
import { EventEmitter } from 'node:events'
import { workerCount } from '../../../src/cluster/worker-count'
import { SharedRateCounts } from '../../../src/cluster/shared-rate-counts'
import { WorkerLink } from '../../../src/cluster/worker-link'
import { bannerOf } from '../../../src/cluster/primary'
import type { RateCounted } from '../../../src/cluster/messages'

t.test('workerCount: auto is one per core, a number is that number', async t => {
  for (const [setting, cores, expect] of [['auto', 2, 2], ['auto', 16, 16], ['auto', 0, 1], [1, 8, 1], [3, 2, 3]] as const) {
    t.equal(workerCount(setting, cores), expect, `${setting} on ${cores} cores`)
  }
})

t.test('SharedRateCounts counts one window per key, as one process does', async t => {
  const c = new SharedRateCounts()
  const counts = [1, 2, 3].map(id => c.count({ dgw: 'rate', id, key: 'p:alice', windowMs: 60_000 }))
  t.same(counts.map(x => [x.id, x.current]), [[1, 1], [2, 2], [3, 3]], 'alice: 1, 2, 3, each answer with its request id')
  t.equal(c.count({ dgw: 'rate', id: 4, key: 'p:bob', windowMs: 60_000 }).current, 1, 'bob counts apart')
  const ttl = c.count({ dgw: 'rate', id: 5, key: 'p:alice', windowMs: 60_000 }).ttl
  t.ok(ttl > 59_000 && ttl <= 60_000, `ttl is what is left of the window: ${ttl}`)
  const short = c.count({ dgw: 'rate', id: 6, key: 'p:carol', windowMs: 1 })
  await new Promise(resolve => setTimeout(resolve, 5))
  t.equal(c.count({ dgw: 'rate', id: 7, key: 'p:carol', windowMs: 1 }).current, 1, `a new window starts at 1 (was ${short.current})`)
})

/** A channel pair standing in for process <-> primary (node:cluster's IPC). */
function channel (): { worker: EventEmitter & { send: (m: unknown) => boolean }, sent: unknown[] } {
  const sent: unknown[] = []
  const worker = Object.assign(new EventEmitter(), { send: (m: unknown) => { sent.push(m); return true } })
  return { worker, sent }
}

t.test('WorkerLink: counts are matched to their answers by id; events go to their handlers', async t => {
  const { worker, sent } = channel()
  const link = new WorkerLink(worker)
  const got: RateCounted[] = []
  link.count('p:a', 1000, a => got.push(a))
  link.count('p:b', 1000, a => got.push(a))
  t.same(sent, [{ dgw: 'rate', id: 1, key: 'p:a', windowMs: 1000 }, { dgw: 'rate', id: 2, key: 'p:b', windowMs: 1000 }])
  worker.emit('message', { dgw: 'rate', id: 2, current: 7, ttl: 10 })
  worker.emit('message', { dgw: 'rate', id: 1, current: 1, ttl: 20 })
  worker.emit('message', { dgw: 'rate', id: 1, current: 99, ttl: 0 })
  t.same(got.map(a => [a.id, a.current]), [[2, 7], [1, 1]], 'each answer once, to its own request; a repeated id is dropped')
  const breakers: unknown[] = []
  link.on('breaker', m => breakers.push(m))
  worker.emit('message', { dgw: 'breaker', host: 'a', event: 'trip', reason: 'x' })
  worker.emit('message', { not: 'ours' })
  worker.emit('message', 'NODE_CLUSTER')
  t.same(breakers, [{ dgw: 'breaker', host: 'a', event: 'trip', reason: 'x' }], 'only gateway messages reach the handlers')
})

t.test('WorkerLink: when the primary is gone, a waiting count and later ones fail at once', async t => {
  const { worker, sent } = channel()
  const link = new WorkerLink(worker)
  const got: number[] = []
  link.count('p:a', 1000, a => got.push(a.current))
  worker.emit('disconnect')
  link.count('p:a', 1000, a => got.push(a.current))
  t.same(got, [-1, -1], 'both answered as failed (the rate limiter sees an error)')
  t.equal(sent.length, 1, 'nothing sent after the disconnect')
  t.equal(link.isConnected, false)
})

t.test('bannerOf: the primary prints what it made in place of what the worker found', async t => {
  const worker = {
    dgw: 'listening' as const,
    url: 'https://127.0.0.1:2376',
    banner: ['listening on https://127.0.0.1:2376', 'daemon "default": ...', 'JWT secret: /d/jwt-secret', 'TLS certificate: /d/cert.pem (self-signed, existing)', 'try: curl ...'],
    prepared: ['JWT secret: /d/jwt-secret', 'TLS certificate: /d/cert.pem (self-signed, existing)']
  }
  const lines = bannerOf(worker, { prepared: ['JWT secret generated: /d/jwt-secret', 'TLS certificate: /d/cert.pem (self-signed, created now)'], adminToken: ['admin token:', '    T'] }, '2 workers')
  t.same(lines, ['listening on https://127.0.0.1:2376', 'daemon "default": ...', '2 workers', 'JWT secret generated: /d/jwt-secret',
    'TLS certificate: /d/cert.pem (self-signed, created now)', 'admin token:', '    T', 'try: curl ...'])
})
