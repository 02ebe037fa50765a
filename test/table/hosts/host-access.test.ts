import t from 'tap'
import { decideHostAccess, parseHostsClaim, reachableNames } from '../../../src/upstream/host-access'

const known = new Set(['a', 'b', 'c'])
const exists = (n: string): boolean => known.has(n)

const cases: Array<{ requested: string | undefined, allowed: string[] | undefined, want: string }> = [
  { requested: 'b', allowed: undefined, want: 'ok b' },
  { requested: undefined, allowed: undefined, want: 'ok a' },
  { requested: 'x', allowed: undefined, want: '404 No such host: x' },
  { requested: 'a', allowed: ['a'], want: 'ok a' },
  { requested: 'b', allowed: ['a'], want: '403 token does not allow host "b"' },
  // the claim is checked first: a limited token cannot probe which names exist
  { requested: 'x', allowed: ['a'], want: '403 token does not allow host "x"' },
  { requested: 'x', allowed: ['x'], want: '404 No such host: x' },
  // unprefixed calls go to the default host, which the claim must allow too
  { requested: undefined, allowed: ['b'], want: '403 token does not allow host "a"' },
  { requested: 'a', allowed: [], want: '403 token does not allow host "a"' },
  // _all is only the fleet list; the mirror answers like for any unknown path
  { requested: '_all', allowed: undefined, want: '404 page not found' },
  { requested: '_all', allowed: ['a'], want: '404 page not found' }
]

for (const c of cases) {
  t.test(`${c.requested ?? '(default)'} with hosts claim ${JSON.stringify(c.allowed)}`, async t => {
    const d = decideHostAccess(c.requested, 'a', exists, c.allowed)
    t.equal(d.ok ? `ok ${d.name}` : `${d.status} ${d.message}`, c.want)
  })
}

t.test('hosts claim parsing fails closed', async t => {
  t.equal(parseHostsClaim(undefined), undefined)
  t.same(parseHostsClaim(['a', 'b']), ['a', 'b'])
  t.same(parseHostsClaim('a'), [])
  t.same(parseHostsClaim({ a: true }), [])
  t.same(parseHostsClaim(['a', 1, null]), ['a'])
})

t.test('reachable names keep registry order', async t => {
  t.same(reachableNames(['a', 'b', 'c'], undefined), ['a', 'b', 'c'])
  t.same(reachableNames(['a', 'b', 'c'], ['c', 'a']), ['a', 'c'])
  t.same(reachableNames(['a', 'b', 'c'], []), [])
})
