import t from 'tap'
import { call, NO_DOCKERD, startFleet, until, type Answer } from '../../helpers/hosts/fleet'

function median (xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.floor(s.length / 2)] as number
}

async function timed (n: number, fn: () => Promise<Answer>): Promise<Answer[]> {
  const out: Answer[] = []
  for (let i = 0; i < n; i++) out.push(await fn())
  return out
}

// Stop one daemon mid-test: GET /hosts marks it down within seconds, calls to
// it fail fast naming it, the others keep their latency, and once it is back
// it is marked up and used again without a restart of the gateway.
t.test('a daemon that stops and comes back', { skip: NO_DOCKERD }, async t => {
  const { gw, daemons } = await startFleet(t)
  const c = daemons.c as NonNullable<typeof daemons.c>
  const stateOf = async (name: string): Promise<string | undefined> =>
    (await call(gw, '/hosts')).body.find((h: { Name: string }) => h.Name === name)?.State

  await timed(10, async () => await call(gw, '/hosts/a/containers/json')) // warm the pools
  const before = await timed(30, async () => await call(gw, '/hosts/a/containers/json'))
  const baseline = median(before.map(r => r.ms))

  await c.stop()
  const tDown = await until(async () => await stateOf('c') === 'down', 10_000, 'c marked down')
  t.ok(tDown < 5000, `c marked down ${tDown} ms after it stopped`)
  const hostsView = (await call(gw, '/hosts')).body as Array<{ Name: string, State: string, Circuit: string, Error: string }>
  t.match(hostsView.find(h => h.Name === 'c'), { State: 'down', Circuit: 'open', Error: /ECONNREFUSED/ })
  t.same(hostsView.filter(h => h.Name !== 'c').map(h => h.State), ['up', 'up'])

  const toC = await timed(10, async () => await call(gw, '/hosts/c/v1.41/containers/json'))
  for (const r of toC) {
    t.ok(r.status === 503 || r.status === 502, `status ${r.status}`)
    t.match(r.body, { message: /"c"/ }, 'the message names the host')
    t.ok(r.ms < 1000, `failed fast: ${r.ms.toFixed(1)} ms`)
  }
  t.match(toC[0]?.body, { message: /^Docker host "c" is unavailable: health check failed: ECONNREFUSED/ })

  const during = await timed(30, async () => await call(gw, '/hosts/a/containers/json'))
  t.ok(during.every(r => r.status === 200))
  const duringB = await timed(10, async () => await call(gw, '/hosts/b/containers/json'))
  t.ok(duringB.every(r => r.status === 200))
  const m = median(during.map(r => r.ms))
  t.ok(m < baseline * 3 + 10, `calls to a keep their latency: median ${m.toFixed(1)} ms with c down, ${baseline.toFixed(1)} ms before`)

  const fleet = await call(gw, '/hosts/_all/containers/json?all=1')
  t.equal(fleet.status, 200, 'the fleet list still answers')
  t.equal(fleet.headers['x-docker-gateway-failed-hosts'], 'c')
  t.ok(fleet.ms < 1000, `fleet list with c down took ${fleet.ms.toFixed(1)} ms`)

  await c.start()
  const tUp = await until(async () => await stateOf('c') === 'up', 10_000, 'c marked up')
  t.ok(tUp < 5000, `c marked up ${tUp} ms after it restarted`)
  const back = await call(gw, '/hosts/c/v1.41/containers/json')
  t.equal(back.status, 200, 'calls to c succeed again')
  const fleetBack = await call(gw, '/hosts/_all/containers/json')
  t.equal(fleetBack.headers['x-docker-gateway-failed-hosts'], undefined)

  t.comment(`baseline a: ${baseline.toFixed(2)} ms; a while c down: ${m.toFixed(2)} ms; fail-fast to c: median ${median(toC.map(r => r.ms)).toFixed(2)} ms, max ${Math.max(...toC.map(r => r.ms)).toFixed(2)} ms; down after ${tDown} ms, up after ${tUp} ms`)
})
