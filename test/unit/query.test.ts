import t from 'tap'
import { routes } from '../../src/docker/routes'
import { validateQuery, encodeQuery, buildUpstreamPath, parseFilters } from '../../src/docker/query'

const route = (id: string) => {
  const r = routes.find(r => r.id === id)
  if (r === undefined) throw new Error(id)
  return r
}

t.test('only documented parameters are forwarded, values as sent', async t => {
  const q = validateQuery(route('container.list'), 'all=True&limit=-1&size=False&trunc_cmd=0&evil=1')
  t.ok(q.ok)
  if (!q.ok) return
  t.same([...q.params], [['all', 'True'], ['limit', '-1'], ['size', 'False']])
  t.equal(encodeQuery(q.params, q.filters), '?all=True&limit=-1&size=False')
})

t.test('the first of repeated parameters wins, as Go url.Values.Get reads it', async t => {
  const q = validateQuery(route('container.stop'), 't=1&t=999')
  t.ok(q.ok)
  if (q.ok) t.equal(q.params.get('t'), '1')
})

t.test('filters: raw JSON and encoded JSON both parse and are re-encoded', async t => {
  const raw = validateQuery(route('container.list'), 'filters={"label":["CallFrom=seed"]}')
  const enc = validateQuery(route('container.list'), 'filters=' + encodeURIComponent('{"label":["CallFrom=seed"]}'))
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
  ['container.logs', 'tail=-5', 'expected "all" or a number'],
  ['container.top', 'ps_args=aux;reboot', 'only letters'],
  ['container.wait', 'condition=forever', 'not-running']
]
for (const [id, qs, msg] of bad) {
  t.test(`${id} ?${qs} is refused`, async t => {
    const q = validateQuery(route(id), qs)
    t.notOk(q.ok)
    if (!q.ok) t.match(q.message, msg)
  })
}

t.test('upstream path is built from validated parts only', async t => {
  t.equal(buildUpstreamPath(route('container.inspect'), 'web01', '1.41', '?size=1'), '/v1.41/containers/web01/json?size=1')
  t.equal(buildUpstreamPath(route('container.delete'), 'web01', undefined, ''), '/containers/web01')
  t.equal(buildUpstreamPath(route('ping'), undefined, undefined, ''), '/_ping')
})
