// The pure limit counters of src/limits (issue 10 finding 2), as tables.
import t from 'tap'
import { StreamSlots } from '../../../src/limits/stream-slots'
import { AddressGate } from '../../../src/limits/address-gate'
import { addressKey } from '../../../src/limits/address-key'
import { PrincipalConnections } from '../../../src/limits/principal-connections'
import { IdleConnections, idleHeadroom } from '../../../src/limits/idle-connections'
import { LimitLog, LogThrottle } from '../../../src/limits/log-throttle'
import { connectionsCheckingInterval, defaultMaxConnections, parseOpenFileLimit, serverTimeouts } from '../../../src/limits/server'
import { loadConfig } from '../../../src/config/load'

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

t.test('address key: IPv4 as is, IPv6 per /64, IPv4-mapped IPv6 as its IPv4 address', async t => {
  const table: Array<[string, string]> = [
    ['127.0.0.1', '127.0.0.1'],
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:127.0.0.1', '127.0.0.1'], // a dual-stack listener's IPv4 client
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['::ffff:a01:203', '10.1.2.3'], // the same mapped address in hex
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'], // same /64, other interface id
    ['2001:0DB8:0001:0002:0:0:0:9', '2001:db8:1:2::/64'], // leading zeros and case do not matter
    ['2001:db8:1:3::1', '2001:db8:1:3::/64'], // the next /64 is another client
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'], // the zone is dropped
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'], // NAT64 (RFC 6052) is IPv6 here, not mapped
    ['::ffff:0:127.0.0.1', '0:0:0:0::/64'], // ::ffff:0:0/96 is IPv4-translated, not mapped
    ['not-an-address', 'not-an-address'],
    ['', '']
  ]
  for (const [address, key] of table) t.equal(addressKey(address), key, `${address} -> ${key}`)

  // 5 unauthenticated connections per key: one host cycling through its /64 gets no more.
  const gate = new AddressGate(5)
  const admitted = Array.from({ length: 20 }, (_, i) => gate.admit(`c${i}`, addressKey(`2001:db8:1:2::${(i + 1).toString(16)}`))).filter(Boolean).length
  t.equal(admitted, 5, '20 addresses of one /64: 5 connections')
  t.ok(gate.admit('other', addressKey('2001:db8:1:3::1')), 'the next /64 has its own count')
  t.equal(gate.admit('mapped', addressKey('::ffff:10.0.0.1')) && gate.count('10.0.0.1'), 1, 'a mapped client counts under its IPv4 address')
})

t.test('principal connections: the first principal on a connection owns it until it closes', async t => {
  // [op, connection, principal (whose count is checked after the step), claim answer, its count]
  type Step = [op: 'claim' | 'close', conn: string, principal: string, expect?: string, count?: number]
  const steps: Step[] = [
    ['claim', 'c1', 'a', 'counted', 1],
    ['claim', 'c1', 'a', 'counted', 1], // the next request on the same connection: not counted twice
    ['claim', 'c2', 'a', 'counted', 2],
    ['claim', 'c3', 'a', 'over', 2], // cap 2: refused
    ['claim', 'c3', 'a', 'over', 2], // and again on the same connection (it is never counted)
    ['claim', 'd1', 'b', 'counted', 1], // b has its own count
    ['claim', 'c1', 'b', 'other', 1], // b's token on a's connection: served, a still owns it, b takes no slot
    ['close', 'c1', 'a', undefined, 1], // a's connection (b used it too) closes: a's slot is free, b keeps its own
    ['claim', 'c4', 'a', 'counted', 2], // a's slot is free again
    ['close', 'c3', 'a', undefined, 2], // a refused connection frees nothing
    ['close', 'c2', 'a', undefined, 1],
    ['close', 'c2', 'a', undefined, 1], // twice: nothing more
    ['close', 'zz', 'a', undefined, 1],
    ['close', 'c4', 'a', undefined, 0]
  ]
  const owners = new PrincipalConnections(2)
  for (const [op, conn, principal, expect, count] of steps) {
    if (op === 'claim') t.equal(owners.claim(conn, principal), expect, `${principal} on ${conn}: ${String(expect)}`)
    else owners.closed(conn)
    t.equal(owners.count(principal), count, `${principal} holds ${String(count)} after ${op} ${conn}`)
  }
  t.equal(owners.count('b'), 1)
  t.equal(owners.principals, 1, 'principals without connections are forgotten (only b is left)')
  for (const bad of [0, -1, 1.5, Number.NaN]) t.throws(() => new PrincipalConnections(bad), RangeError, `cap ${bad} is refused`)
})

t.test('idle connections: near the total cap the longest idle keep-alive connections are closed', async t => {
  for (const [max, headroom] of [[1, 1], [8, 1], [20, 2], [85, 8], [4096, 409]]) t.equal(idleHeadroom(max as number), headroom, `cap ${max}: ${headroom} kept free`)

  let now = 0
  const idle = new IdleConnections<string>(10, () => now) // headroom 1: at most 9 open
  const open = (id: string): void => { idle.opened(id) }
  const served = (id: string, at: number): void => { now = at; idle.requestStarted(id); idle.responseEnded(id, `h-${id}`) }
  for (let i = 1; i <= 8; i++) open(`c${i}`)
  served('c3', 10)
  served('c1', 20)
  served('c2', 30)
  idle.requestStarted('c4') // in flight: never closed
  t.same(idle.reclaim(), [], '8 open, below 9: nothing closed')
  open('c9')
  t.same(idle.reclaim(), [], '9 open: nothing closed')
  open('c10')
  t.same(idle.reclaim(), ['h-c3'], '10 open: the one idle longest is closed')
  t.equal(idle.open, 9, 'and no longer counted')
  t.same(idle.reclaim(), [], 'asked again before its close arrives: nothing more')
  served('c3', 40) // a late response on a connection being closed is ignored
  idle.closed('c3')
  t.equal(idle.open, 9)
  served('c1', 50) // c1 used again: now the most recently idle
  open('c11')
  t.same(idle.reclaim(), ['h-c2'], 'c2 is now the one idle longest')
  idle.requestStarted('c1')
  idle.requestStarted('c1') // pipelined: two in flight
  idle.responseEnded('c1', 'h-c1')
  open('c12')
  t.same(idle.reclaim(), [], 'c1 still has a request in flight, the rest never finished one: nothing to close')
  t.equal(idle.open, 10, 'over the target but nothing idle: the total cap (net.Server) is the backstop')
  idle.responseEnded('c1', 'h-c1')
  t.same(idle.reclaim(), ['h-c1'], 'its last response ended: idle, closed')
  idle.closed('unknown')
  idle.requestStarted('unknown')
  idle.responseEnded('unknown', 'x')
  t.throws(() => new IdleConnections(0), RangeError)
})
