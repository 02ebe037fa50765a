import t from 'tap'
import { Agent, request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { countDaemonConnections } from '../../helpers/net'
import { waitFor } from '../../helpers/wait'

/**
 * Long-lived streams against the real daemon: a client that hangs up
 * mid-stream leaves no daemon connection behind, and hundreds of open
 * follow streams do not starve short calls.
 */
const d = requireDaemon(t)
if (d !== undefined && d.port !== null) {
  const daemonPort = d.port
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('streams', async t => {
    // A small short-call pool: if streams shared it, the list call below would queue forever.
    // 200 streams of one principal below, each on its own connection: above the default per-principal
    // caps (limits.streamsPerPrincipal, limits.connectionsPerPrincipal).
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_UPSTREAM_CONNECTIONS: '4', GATEWAY_STREAMS_PER_PRINCIPAL: '256', GATEWAY_CONNECTIONS_PER_PRINCIPAL: '256' })
    const auth = { authorization: `Bearer ${gw.token({ sub: 'streams', scope: 'containers:read containers:write containers:export' })}` }
    const create = await request(`${gw.url}/containers/create`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      // A 64 MiB file makes the export far larger than every socket and stream
      // buffer between daemon and client: the daemon cannot finish sending it
      // (and drop its connection on its own) before the client hangs up.
      body: JSON.stringify({
        Image: d.image,
        Cmd: ['sh', '-c', 'head -c 67108864 /dev/zero > /big && while true; do echo tick; sleep 0.2; done'],
        Labels: { [label.key]: label.value }
      })
    })
    t.equal(create.statusCode, 201)
    const id = ((await create.body.json()) as { Id: string }).Id
    t.equal((await request(`${gw.url}/containers/${id}/start`, { method: 'POST', headers: auth })).statusCode, 204)
    await waitFor(async () => (await docker(`/containers/${id}/logs?stdout=1&tail=1`)).text.includes('tick'), 30_000)

    // Warm the short pool (ownership lookups keep one keep-alive connection), then take the baseline.
    await (await request(`${gw.url}/containers/${id}/json`, { headers: auth })).body.dump()
    const baseline = countDaemonConnections(daemonPort)

    for (const path of [`/containers/${id}/logs?follow=1&stdout=1`, `/containers/${id}/stats?stream=1`, `/containers/${id}/export`]) {
      await t.test(`a client hanging up mid-stream closes the daemon connection: ${path.split('?')[0]?.split('/').pop() ?? ''}`, async t => {
        const client = new Agent()
        const res = await request(gw.url + path, { headers: auth, dispatcher: client })
        t.equal(res.statusCode, 200)
        // Counted once the headers arrived, before the body is touched: leaving
        // the loop below destroys the body and starts the hang-up. Compared
        // later with the count after the hang-up rather than with the baseline:
        // an idle keep-alive socket of the short-call pool may expire in
        // between and would hide the stream's own connection.
        const during = countDaemonConnections(daemonPort)
        for await (const chunk of res.body) { t.ok((chunk as Buffer).length > 0, 'data flows'); break }
        await client.destroy()
        await waitFor(() => countDaemonConnections(daemonPort) <= baseline, 5000)
        t.ok(during > countDaemonConnections(daemonPort), 'the stream held a daemon connection, now closed')
        // A pool could dial a replacement connection after the abort that is
        // never used and that dockerd never closes (nodejs/undici#5845): wait and look again.
        await new Promise(resolve => setTimeout(resolve, 500))
        // Idle keep-alive connections of the short-call pool may also expire meanwhile, hence <=.
        t.ok(countDaemonConnections(daemonPort) <= baseline, 'back to the baseline: nothing leaked')
      })
    }

    await t.test('200 open follow streams do not starve a list call', async t => {
      const client = new Agent({ connections: null })
      const streams = await Promise.all(Array.from({ length: 200 }, async () =>
        await request(`${gw.url}/containers/${id}/logs?follow=1&stdout=1&tail=0`, { headers: auth, dispatcher: client })))
      t.ok(streams.every(s => s.statusCode === 200), '200 streams established')
      t.ok(countDaemonConnections(daemonPort) >= 200, 'each holds its own daemon connection')
      const started = Date.now()
      const list = await request(`${gw.url}/containers/json`, { headers: auth, headersTimeout: 10_000 })
      t.equal(list.statusCode, 200)
      t.ok(Array.isArray(await list.body.json()))
      t.comment(`list answered in ${Date.now() - started} ms with 200 streams open`)
      await client.destroy()
      await waitFor(() => countDaemonConnections(daemonPort) <= baseline, 10_000)
      t.ok(countDaemonConnections(daemonPort) <= baseline, 'all 200 daemon connections closed after the clients left')
    })

    await t.test('the daemon saw no container left behind by an aborted stream', async t => {
      const info = await docker(`/containers/${id}/json`)
      t.equal(info.status, 200)
      t.equal(info.body.State.Running, true, 'the container itself is untouched')
    })
  })
}
