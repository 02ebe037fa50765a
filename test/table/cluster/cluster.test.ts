// The pure parts of running several workers (src/cluster): how many, the
// primary's shared rate counts, the worker's IPC link, the banner.
import t from 'tap'
import { EventEmitter } from 'node:events'
import { workerCount } from '../../../src/cluster/worker-count'
import { SharedRateCounts } from '../../../src/cluster/shared-rate-counts'
import { WorkerLink } from '../../../src/cluster/worker-link'
import { bannerOf } from '../../../src/cluster/primary'

t.test('workerCount: auto is one per core, a number is that number', async t => {
  for (const [setting, cores, expect] of [['auto', 2, 2], ['auto', 16, 16], ['auto', 0, 1], [1, 8, 1], [3, 2, 3]] as const) {
    t.equal(workerCount(setting, cores), expect, `${setting} on ${cores} cores`)
  }
})

t.test('SharedRateCounts counts one window per key, as one process does', async t => {
  const c = new SharedRateCounts()
  const one = (id: number, key: string, windowMs: number): [number, number, number] => {
    const answer = c.count({ dgw: 'rate', counts: [[id, key, windowMs]] }).answers
    t.equal(answer.length, 1)
    return answer[0] as [number, number, number]
  }
  const batch = c.count({ dgw: 'rate', counts: [[1, 'p:alice', 60_000], [2, 'p:alice', 60_000], [3, 'p:alice', 60_000]] })
  t.same(batch.answers.map(([id, current]) => [id, current]), [[1, 1], [2, 2], [3, 3]], 'alice: 1, 2, 3 in one message, each answer with its request id')
  t.equal(one(4, 'p:bob', 60_000)[1], 1, 'bob counts apart')
  const ttl = one(5, 'p:alice', 60_000)[2]
  t.ok(ttl > 59_000 && ttl <= 60_000, `ttl is what is left of the window: ${ttl}`)
  t.equal(one(6, 'p:alice', 60_000)[1], 5, 'a later message goes on counting the same window')
  const short = one(7, 'p:carol', 1)
  await new Promise(resolve => setTimeout(resolve, 5))
  t.equal(one(8, 'p:carol', 1)[1], 1, `a new window starts at 1 (was ${short[1]})`)
})

/** A channel pair standing in for process <-> primary (node:cluster's IPC). */
function channel (): { worker: EventEmitter & { send: (m: unknown) => boolean }, sent: unknown[] } {
  const sent: unknown[] = []
  const worker = Object.assign(new EventEmitter(), { send: (m: unknown) => { sent.push(m); return true } })
  return { worker, sent }
}

const tick = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))

t.test('WorkerLink: the counts of one turn leave in one message; answers are matched by id; events go to their handlers', async t => {
  const { worker, sent } = channel()
  const link = new WorkerLink(worker)
  const got: Array<[string, number, number]> = []
  link.count('p:a', 1000, (current, ttl) => got.push(['a', current, ttl]))
  link.count('p:b', 1000, (current, ttl) => got.push(['b', current, ttl]))
  t.same(sent, [], 'nothing sent before the turn ends')
  await tick()
  t.same(sent, [{ dgw: 'rate', counts: [[1, 'p:a', 1000], [2, 'p:b', 1000]] }], 'both counts in one message')
  link.count('p:c', 500, (current, ttl) => got.push(['c', current, ttl]))
  await tick()
  t.same(sent[1], { dgw: 'rate', counts: [[3, 'p:c', 500]] }, 'a later turn sends its own message')
  await tick()
  t.equal(sent.length, 2, 'an empty turn sends nothing')
  worker.emit('message', { dgw: 'rate', answers: [[2, 7, 10], [3, 1, 5]] })
  worker.emit('message', { dgw: 'rate', answers: [[1, 1, 20], [1, 99, 0], [42, 1, 1]] })
  t.same(got, [['b', 7, 10], ['c', 1, 5], ['a', 1, 20]], 'each answer once, to its own request; a repeated or unknown id is dropped')
  const breakers: unknown[] = []
  link.on('breaker', m => breakers.push(m))
  worker.emit('message', { dgw: 'breaker', host: 'a', event: 'trip', reason: 'x' })
  worker.emit('message', { not: 'ours' })
  worker.emit('message', 'NODE_CLUSTER')
  t.same(breakers, [{ dgw: 'breaker', host: 'a', event: 'trip', reason: 'x' }], 'only gateway messages reach the handlers')
})

t.test('WorkerLink: when the primary is gone, counts waiting or not yet sent, and later ones, fail at once', async t => {
  const { worker, sent } = channel()
  const link = new WorkerLink(worker)
  const got: number[] = []
  link.count('p:a', 1000, current => got.push(current))
  await tick()
  link.count('p:b', 1000, current => got.push(current))
  worker.emit('disconnect')
  link.count('p:a', 1000, current => got.push(current))
  await tick()
  t.same(got, [-1, -1, -1], 'all three answered as failed (the rate limiter sees an error)')
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
