// The pure limit counters of src/limits (issue 10 finding 2), as tables.
import t from 'tap'
import { StreamSlots } from '../../src/limits/stream-slots'
import { AddressGate } from '../../src/limits/address-gate'
import { LimitLog, LogThrottle } from '../../src/limits/log-throttle'
import { connectionsCheckingInterval, defaultMaxConnections, parseOpenFileLimit, serverTimeouts } from '../../src/limits/server'
import { loadConfig } from '../../src/config/load'

t.test('stream slots: a principal holds at most max; releases are idempotent and per principal', async t => {
  const slots = new StreamSlots(2)
  const a1 = slots.acquire('a')
  const a2 = slots.acquire('a')
  t.ok(a1 !== undefined && a2 !== undefined, 'a gets two')
  t.equal(slots.acquire('a'), undefined, 'the third of a is refused')
  t.ok(slots.acquire('b') !== undefined, 'b is not affected by a')
  a1?.release()
  a1?.release()
  t.equal(slots.count('a'), 1, 'a second release of the same slot frees nothing more')
  const a3 = slots.acquire('a')
  t.ok(a3 !== undefined, 'after one ends, a may open another')
  t.equal(slots.acquire('a'), undefined, 'and is at the cap again')
  a2?.release()
  a3?.release()
  t.equal(slots.count('a'), 0)
  t.equal(slots.principals, 1, 'principals without streams are forgotten (only b is left)')
  for (const bad of [0, -1, 1.5, Number.NaN]) t.throws(() => new StreamSlots(bad), RangeError, `cap ${bad} is refused`)
})

t.test('address gate: unauthenticated connections per address', async t => {
  type Step = [op: 'admit' | 'auth' | 'close', conn: string, addr: string, expect?: boolean]
  const steps: Step[] = [
    ['admit', 'c1', '10.0.0.1', true],
    ['admit', 'c2', '10.0.0.1', true],
    ['admit', 'c3', '10.0.0.1', false], // cap 2 reached
    ['admit', 'd1', '10.0.0.2', true], // another address has its own count
    ['admit', 'c1', '10.0.0.1', true], // an admitted connection asked again is not counted twice
    ['auth', 'c1', '10.0.0.1'], // authenticated: no longer counts
    ['admit', 'c4', '10.0.0.1', true],
    ['admit', 'c5', '10.0.0.1', false],
    ['close', 'c1', '10.0.0.1'], // already uncounted: closing it frees nothing
    ['admit', 'c6', '10.0.0.1', false],
    ['close', 'c2', '10.0.0.1'],
    ['admit', 'c7', '10.0.0.1', true],
    ['close', 'unknown', '10.0.0.9']
  ]
  const gate = new AddressGate(2)
  for (const [op, conn, addr, expect] of steps) {
    if (op === 'admit') t.equal(gate.admit(conn, addr), expect, `admit ${conn} from ${addr}: ${String(expect)}`)
    else if (op === 'auth') gate.authenticated(conn)
    else gate.closed(conn)
  }
  t.equal(gate.count('10.0.0.1'), 2)
  t.equal(gate.count('10.0.0.2'), 1)
  t.equal(gate.count('10.0.0.9'), 0)
  t.throws(() => new AddressGate(0), RangeError)
})

t.test('log throttle: one line per key and interval, then the count of those not written', async t => {
  let now = 0
  const throttle = new LogThrottle(1000, () => now)
  const table: Array<[at: number, key: string, log: boolean, suppressed?: number]> = [
    [0, 'a', true, 0],
    [10, 'a', false],
    [20, 'b', true, 0],
    [999, 'a', false],
    [1000, 'a', true, 2],
    [1500, 'a', false],
    [5000, 'a', true, 1],
    [5001, 'b', true, 0]
  ]
  for (const [at, key, log, suppressed] of table) {
    now = at
    const d = throttle.hit(key)
    t.equal(d.log, log, `${key} at ${at}: ${log ? 'logged' : 'counted'}`)
    if (d.log) t.equal(d.suppressed, suppressed)
  }

  const lines: Array<[Record<string, unknown>, string]> = []
  now = 0
  const log = new LimitLog(() => ({ warn: (o, m) => { lines.push([o, m]) } }), 60_000, () => now)
  for (let i = 0; i < 500; i++) log.hit('maxConnections', { ip: '10.0.0.1' }, 'refused')
  t.equal(lines.length, 1, '500 hits in one interval: one line')
  now = 60_000
  log.hit('maxConnections', {}, 'refused')
  t.equal(lines.length, 2)
  t.equal(lines[1]?.[0].suppressed, 499, 'the next line counts the hits not logged')
  t.equal(lines[1]?.[0].limit, 'maxConnections')
  const silent = new LimitLog(() => undefined, 1000)
  silent.hit('x', {}, 'no logger yet: nothing thrown')
})

t.test('server deadlines', async t => {
  const rows: Array<[string, number | undefined, number]> = [
    ['/proc/self/limits absent', undefined, 4096],
    ['ulimit 256 (the finding)', 256, 85],
    ['ulimit 1024', 1024, 341],
    ['ulimit 1048576', 1048576, 4096],
    ['ulimit 20', 20, 16]
  ]
  for (const [name, nofile, expect] of rows) t.equal(defaultMaxConnections(nofile), expect, name)
  const proc = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n'
  t.equal(parseOpenFileLimit(proc), 1024)
  t.equal(parseOpenFileLimit('Max open files            unlimited            unlimited            files\n'), undefined)
  t.equal(parseOpenFileLimit(''), undefined)
  for (const [deadline, interval] of [[10_000, 1000], [2000, 250], [500, 250], [60_000, 1000], [5000, 500]]) {
    t.equal(connectionsCheckingInterval(deadline as number), interval, `header deadline ${deadline} ms is checked every ${interval} ms`)
  }
  const defaults = serverTimeouts(loadConfig({}, () => false).limits)
  t.same(defaults, { node: { headersTimeout: 10_000, connectionsCheckingInterval: 1000 }, requestTimeout: 60_000, keepAliveTimeout: 65_000, tlsHandshakeTimeout: 10_000 },
    'defaults: a TLS handshake and a head within 10 s each (the head cut within 11 s), the whole request within 60 s, idle keep-alive 65 s')
})
