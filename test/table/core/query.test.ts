import t from 'tap'
import { routes } from '../../../src/docker/routes'
import { validateQuery, encodeQuery, buildUpstreamPath, parseFilters, parseQuery } from '../../../src/docker/query'

const route = (id: string) => {
  const r = routes.find(r => r.id === id)
  if (r === undefined) throw new Error(id)
  return r
}

t.test('only documented parameters are forwarded, booleans as dockerd reads them', async t => {
  const q = validateQuery(route('container.list'), parseQuery('all=True&limit=-1&size=False&trunc_cmd=0&evil=1'))
  t.ok(q.ok)
  if (!q.ok) return
  t.same([...q.params], [['all', '1'], ['limit', '-1'], ['size', '0']])
  t.equal(encodeQuery(q.params, q.filters), '?all=1&limit=-1&size=0')
})

t.test('bool: httputils.BoolValue semantics, forwarded as 1 or 0', async t => {
  const cases: Array<[string, string]> = [
    ['', '0'], ['0', '0'], ['no', '0'], ['FALSE', '0'], [' none ', '0'], ['false', '0'],
    ['1', '1'], ['true', '1'], ['True', '1'], ['yes', '1'], ['anything', '1']
  ]
  for (const [value, forwarded] of cases) {
    const q = validateQuery(route('container.inspect'), parseQuery('size=' + encodeURIComponent(value)))
    t.same(q.ok && q.params.get('size'), forwarded, JSON.stringify(value))
  }
})

t.test('link on delete may only be false', async t => {
  const off = validateQuery(route('container.delete'), parseQuery('force=1&link=0'))
  t.same(off.ok && [...off.params], [['force', '1'], ['link', '0']])
  const on = validateQuery(route('container.delete'), parseQuery('force=1&link=true'))
  t.notOk(on.ok)
  if (!on.ok) t.match(on.message, '"link" is not supported')
})

t.test('ps_args is forwarded in canonical form; empty is not forwarded', async t => {
  const cases: Array<[string, string | undefined]> = [
    ['ps_args=', undefined], ['ps_args=-e+-f', '-ef'], ['ps_args=aux', 'aux'], ['ps_args=o+PID,%25CPU,comm', '-o pid,pcpu,comm']
  ]
  for (const [qs, forwarded] of cases) {
    const q = validateQuery(route('container.top'), parseQuery(qs))
    t.ok(q.ok, qs)
    if (q.ok) t.equal(q.params.get('ps_args'), forwarded, qs)
  }
  // The first value counts, as in Go, even when it is the empty default.
  const first = validateQuery(route('container.top'), parseQuery('ps_args=&ps_args=-ef+--sort=-pid'))
  t.same(first.ok && [...first.params], [])
})

t.test('bounded integers', async t => {
  const ok: Array<[string, string]> = [['container.stop', 't=-1'], ['container.stop', 't=86400'], ['container.resize', 'h=0&w=65535'], ['exec.resize', 'h=24&w=80']]
  for (const [id, qs] of ok) t.ok(validateQuery(route(id), parseQuery(qs)).ok, `${id} ?${qs}`)
})

t.test('filters: values bounded, no control characters', async t => {
  const many = JSON.stringify({ label: Array.from({ length: 65 }, (_, i) => `k${i}`) })
  const long = JSON.stringify({ label: ['x'.repeat(513)] })
  const ctl = JSON.stringify({ name: ['a\nb'] })
  for (const [f, msg] of [[many, 'more than 64'], [long, 'longer than 512'], [ctl, 'control character']]) {
    const q = validateQuery(route('container.list'), parseQuery('filters=' + encodeURIComponent(f as string)))
    t.notOk(q.ok)
    if (!q.ok) t.match(q.message, msg as string)
  }
  t.ok(validateQuery(route('container.list'), parseQuery('filters=' + encodeURIComponent(JSON.stringify({ label: ['owner=zoë'] })))).ok, 'UTF-8 labels pass')
})

t.test('the first of repeated parameters wins, as Go url.Values.Get reads it', async t => {
  const q = validateQuery(route('container.stop'), parseQuery('t=1&t=999'))
  t.ok(q.ok)
  if (q.ok) t.equal(q.params.get('t'), '1')
})

t.test('filters: raw JSON and encoded JSON both parse and are re-encoded', async t => {
  const raw = validateQuery(route('container.list'), parseQuery('filters={"label":["CallFrom=seed"]}'))
  const enc = validateQuery(route('container.list'), parseQuery('filters=' + encodeURIComponent('{"label":["CallFrom=seed"]}')))
  t.ok(raw.ok && enc.ok)
  if (!raw.ok || !enc.ok) return
  t.same(raw.filters, { label: ['CallFrom=seed'] })
  t.same(enc.filters, raw.filters)
  t.equal(encodeQuery(raw.params, raw.filters), '?filters=' + encodeURIComponent('{"label":["CallFrom=seed"]}'))
})

t.test('legacy map form of filters', async t => {
  const f = parseFilters('{"status":{"running":true,"exited":false}}')
  t.same(f, { ok: true, filters: { status: ['running'] } })
})

const bad: Array<[string, string, string]> = [
  ['container.list', 'filters=notjson', 'not valid JSON'],
  ['container.list', 'filters=[1,2]', 'expected a JSON object'],
  ['container.list', 'filters="label"', 'expected a JSON object'],
  ['container.list', 'filters={"owner":["x"]}', "invalid filter 'owner'"],
  ['container.list', 'filters={"label":[1]}', 'must be strings'],
  ['container.list', 'filters={"label":"a=b"}', 'must be a list'],
  ['container.list', 'limit=ten', 'expected an integer'],
  ['container.stop', 't=1.5', 'expected an integer'],
  ['container.kill', 'signal=KILL;rm', 'invalid signal'],
  ['container.rename', 'name=bad/name', 'Invalid container name'],
  ['container.rename', 'name=-x', 'Invalid container name'],
  ['container.create', 'name=a', 'Invalid container name'],
  // Names that read as a short or full container ID (issue 10 review): the daemon matches names before ID prefixes.
  ['container.create', 'name=0123456789ab', 'would be taken for a container ID'],
  ['container.create', 'name=/0123456789ab', 'would be taken for a container ID'],
  ['container.create', 'name=' + 'f'.repeat(64), 'would be taken for a container ID'],
  ['container.rename', 'name=deadbeefcafe0', 'would be taken for a container ID'],
  ['container.logs', 'tail=-5', 'expected "all" or a number'],
  ['container.top', 'ps_args=aux;reboot', 'not one of the accepted forms'],
  ['container.top', 'ps_args=' + encodeURIComponent('-ofname,rtprio=PID,pid,user,args e -e --sort=-pid'), 'ps_args'],
  ['container.stop', 't=86401', 'expected -1 to 86400'],
  ['container.restart', 't=-2', 'expected -1 to 86400'],
  ['container.stop', 't=9999999999', 'expected an integer'],
  ['container.resize', 'h=-1', 'expected 0 to 65535'],
  ['exec.resize', 'w=65536', 'expected 0 to 65535'],
  ['container.inspect', 'size=' + 'x'.repeat(17), 'expected a boolean'],
  ['container.wait', 'condition=forever', 'not-running']
]
t.test('names that only look a little like IDs are still accepted', async t => {
  for (const name of ['db', 'cafe', '0123456789a', 'ABCDEF012345', '0123456789abg', 'web-0123456789ab', 'f'.repeat(65)]) {
    const q = validateQuery(route('container.create'), parseQuery(`name=${name}`))
    t.ok(q.ok, `${name}: ${q.ok ? 'accepted' : q.message}`)
  }
})

for (const [id, qs, msg] of bad) {
  t.test(`${id} ?${qs} is refused`, async t => {
    const q = validateQuery(route(id), parseQuery(qs))
    t.notOk(q.ok)
    if (!q.ok) t.match(q.message, msg)
  })
}

t.test('upstream path is built from validated parts only', async t => {
  t.equal(buildUpstreamPath(route('container.inspect'), 'web01', '1.41', '?size=1'), '/v1.41/containers/web01/json?size=1')
  t.equal(buildUpstreamPath(route('container.delete'), 'web01', undefined, ''), '/containers/web01')
  t.equal(buildUpstreamPath(route('ping'), undefined, undefined, ''), '/_ping')
})

t.test('parseQuery reads a query as Go\'s net/url does', async t => {
  const cases: Array<[string, Record<string, string>]> = [
    ['', {}],
    ['all=1', { all: '1' }],
    ['all', { all: '' }],
    ['a=1&a=2', { a: '1' }],
    ['a=x+y&b=%7B%22label%22%3A%5B%5D%7D', { a: 'x y', b: '{"label":[]}' }],
    ['filters={"label":["a=b"]}', { filters: '{"label":["a=b"]}' }],
    ['&&a=1&', { a: '1' }],
    ['bad=%zz&ok=1', { ok: '1' }],
    ['%ff=1&ok=2', { ok: '2' }],
    ['a=%2F', { a: '/' }],
    ['x=1;y=2', { x: '1;y=2' }]
  ]
  for (const [raw, want] of cases) {
    t.same({ ...parseQuery(raw) }, want, `?${raw}`)
  }
  const proto = parseQuery('__proto__=1&constructor=2')
  t.equal(Object.getPrototypeOf(Object.getPrototypeOf(proto)), null, 'nothing inherited')
  t.equal(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value, '1', 'a name like __proto__ or constructor is data')
  t.equal(proto.constructor, '2')
})

t.test('events: since/until are unix seconds with an optional fraction, since not after until', async t => {
  const events = route('events')
  for (const qs of ['since=1700000000', 'since=1700000000.123456789&until=1700000000.2', 'until=0', 'since=5&until=5']) {
    t.ok(validateQuery(events, parseQuery(qs)).ok, qs)
  }
  // What the daemon's ParseTimestamps would answer with its 500, or what the CLI turns into unix time before sending.
  for (const qs of ['since=10m', 'since=2024-01-01T00:00:00Z', 'since=-5', 'since=%2B5', 'until=12345678901', 'until=1.1234567891', 'since=1.', 'since=.5']) {
    const q = validateQuery(events, parseQuery(qs))
    t.notOk(q.ok, qs)
    if (!q.ok) t.match(q.message, 'expected unix seconds', qs)
  }
  const order = validateQuery(events, parseQuery('since=1700000000.5&until=1700000000.25'))
  t.same(order, { ok: false, message: '`since` time (1700000000.5) cannot be after `until` time (1700000000.25)' })
})

t.test('events and prune filters: each endpoint its own documented names', async t => {
  const events = validateQuery(route('events'), parseQuery('filters=' + encodeURIComponent(JSON.stringify({ type: ['container'], event: ['start'], container: ['web'], label: ['a=b'], scope: ['local'] }))))
  t.ok(events.ok)
  for (const bad of [{ status: ['running'] }, { 'label!': ['x'] }]) {
    const q = validateQuery(route('events'), parseQuery('filters=' + encodeURIComponent(JSON.stringify(bad))))
    t.same(q, { ok: false, message: `invalid filter '${Object.keys(bad)[0] as string}'` })
  }
  const prune = validateQuery(route('container.prune'), parseQuery('filters=' + encodeURIComponent(JSON.stringify({ label: ['a'], 'label!': ['b=c'], until: ['10m'] }))))
  t.ok(prune.ok)
  const cases: Array<[unknown, string]> = [
    [{ status: ['exited'] }, "invalid filter 'status'"],
    [{ until: ['10m', '1h'] }, 'invalid filters: more than one until filter specified'],
    [{ until: ['1 hour'] }, 'invalid filters: until expects a timestamp or duration']
  ]
  for (const [filters, message] of cases) {
    t.same(validateQuery(route('container.prune'), parseQuery('filters=' + encodeURIComponent(JSON.stringify(filters)))), { ok: false, message }, message)
  }
})
