// The verified-token cache: bounded, least recently used out first, and an
// entry never outlives its token's exp (checked on every hit) nor maxAge.
import t from 'tap'
import { TokenCache, type VerifiedIdentity } from '../../../src/auth/token-cache'

const id = (sub: string, expiresAt: number): VerifiedIdentity => ({ sub, scopes: ['containers:read'], expiresAt })

t.test('a cached token expires at its exp, not later', async t => {
  let clock = 1_000_000
  const cache = new TokenCache({ max: 10, maxAgeMs: 600_000, now: () => clock })
  cache.set('tok', id('a', clock + 2000))
  t.equal(cache.get('tok')?.sub, 'a')
  clock += 1999
  t.equal(cache.get('tok')?.sub, 'a', 'still valid 1 ms before exp')
  clock += 1
  t.equal(cache.get('tok'), undefined, 'gone at exp')
  t.equal(cache.size, 0, 'and dropped')
})

t.test('maxAge bounds an entry whose exp is far away', async t => {
  let clock = 0
  const cache = new TokenCache({ max: 10, maxAgeMs: 1000, now: () => clock })
  cache.set('tok', id('a', 10_000_000))
  clock = 999
  t.ok(cache.get('tok'))
  clock = 1000
  t.equal(cache.get('tok'), undefined)
})

t.test('bounded: the least recently used entry goes first', async t => {
  const cache = new TokenCache({ max: 3, maxAgeMs: 60_000 })
  const exp = Date.now() + 60_000
  cache.set('a', id('a', exp))
  cache.set('b', id('b', exp))
  cache.set('c', id('c', exp))
  t.ok(cache.get('a'), 'touch a: b is now the oldest')
  cache.set('d', id('d', exp))
  t.equal(cache.size, 3)
  t.equal(cache.get('b'), undefined, 'b evicted')
  t.ok(cache.get('a'))
  t.ok(cache.get('c'))
  t.ok(cache.get('d'))
})

t.test('size 0 turns it off', async t => {
  const cache = new TokenCache({ max: 0, maxAgeMs: 60_000 })
  cache.set('a', id('a', Date.now() + 60_000))
  t.equal(cache.get('a'), undefined)
  t.equal(cache.size, 0)
})
