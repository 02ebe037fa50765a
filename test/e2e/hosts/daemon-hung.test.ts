import t from 'tap'
import { request } from 'undici'
import { call, NO_DOCKERD, startFleet, until } from '../../helpers/hosts/fleet'

// A daemon that hangs (SIGSTOP: the kernel still accepts connections, nobody
// answers) is the case a breaker exists for: without it every call would
// wait for the full headers timeout. Calls stuck on it must not slow the
// others (separate pools, no shared queue), and once the health check has
// marked it down, new calls to it fail at once.
t.test('a hung daemon', { skip: NO_DOCKERD }, async t => {
  const { gw, daemons } = await startFleet(t)
  const c = daemons.c as NonNullable<typeof daemons.c>
  t.teardown(() => { c.resume() })
  const stateOf = async (name: string): Promise<string | undefined> =>
    (await call(gw, '/hosts')).body.find((h: { Name: string }) => h.Name === name)?.State

  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number
  const sample = async (): Promise<Array<Awaited<ReturnType<typeof call>>>> => {
    const out = []
    for (let i = 0; i < 20; i++) out.push(await call(gw, i % 2 === 0 ? '/hosts/a/containers/json' : '/hosts/b/containers/json'))
    return out
  }
  await sample() // warm the pools and the client
  const baseline = median((await sample()).map(r => r.ms))

  c.pause()
  // Twenty calls stuck on c while we use a and b.
  const stuck = Array.from({ length: 20 }, async () => {
    const ac = new AbortController()
    const p = request(`${gw.url}/hosts/c/containers/json`, { headers: { authorization: `Bearer ${gw.token()}` }, signal: ac.signal }).catch(() => undefined)
    return { ac, p }
  })
  const handles = await Promise.all(stuck)
  const toA = await sample()
  t.ok(toA.every(r => r.status === 200), 'a and b answer')
  const slowest = Math.max(...toA.map(r => r.ms))
  const during = median(toA.map(r => r.ms))
  t.ok(during < baseline * 3 + 20, `calls to a and b keep their latency while 20 calls hang on c: median ${during.toFixed(1)} ms, ${baseline.toFixed(1)} ms before`)
  t.ok(slowest < 1000, `none waits for c (slowest ${slowest.toFixed(1)} ms)`)

  const tDown = await until(async () => await stateOf('c') === 'down', 10_000, 'c marked down')
  t.ok(tDown < 5000, `hung c marked down after ${tDown} ms`)
  const fast = await call(gw, '/hosts/c/containers/json')
  t.equal(fast.status, 503)
  t.match(fast.body, { message: /^Docker host "c" is unavailable: health check failed: timeout/ })
  t.ok(fast.ms < 1000, `fails fast while hung: ${fast.ms.toFixed(1)} ms`)
  const fleet = await call(gw, '/hosts/_all/containers/json')
  t.equal(fleet.headers['x-docker-gateway-failed-hosts'], 'c')
  t.ok(fleet.ms < 1000, `fleet list skips the hung host (${fleet.ms.toFixed(1)} ms)`)

  for (const h of handles) h.ac.abort()
  c.resume()
  await until(async () => await stateOf('c') === 'up', 10_000, 'c marked up')
  t.equal((await call(gw, '/hosts/c/containers/json')).status, 200, 'c serves again')
  t.comment(`hung host: down after ${tDown} ms; fail-fast ${fast.ms.toFixed(2)} ms; a/b median ${during.toFixed(2)} ms (before ${baseline.toFixed(2)} ms), slowest ${slowest.toFixed(2)} ms while 20 calls hang on c`)
})
