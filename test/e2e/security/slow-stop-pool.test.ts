import crypto from 'node:crypto'
import t from 'tap'
import { Agent } from 'undici'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { callerOf, startWatchedGateway } from '../../helpers/security/gateway-app'

/**
 * Adversarial review of issue 10: `POST /containers/{id}/stop?t=86400` on a
 * container that ignores SIGTERM answers only when the grace period ends.
 * Sent as short calls, twelve of them from one principal held every
 * connection of the short-call pool that all principals share, and another
 * principal's list and ping timed out. stop and restart now get a daemon
 * connection of their own and hold one of the caller's stream slots, so the
 * caller runs out of slots (429) and everyone else is served at once.
 */
const POOL = 2
const SLOTS = 2
const d = requireDaemon(t)

if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('slow stops of one principal neither fill the shared pool nor exceed its stream slots', async t => {
    const gw = await startWatchedGateway(t, {
      GATEWAY_UPSTREAM: d.url,
      GATEWAY_UPSTREAM_CONNECTIONS: String(POOL),
      GATEWAY_STREAMS_PER_PRINCIPAL: String(SLOTS)
    })
    const run = crypto.randomBytes(3).toString('hex')
    const tokens = { a: gw.token(`a-${run}`), b: gw.token(`b-${run}`) }
    const agent = new Agent({ connections: 32, headersTimeout: 60_000 })
    t.teardown(async () => { await agent.destroy() })
    const call = callerOf(gw.url, agent, tokens)

    // A's container ignores SIGTERM: a stop waits the whole grace period.
    const created = await call('a', 'POST', '/containers/create', { Image: d.image, Cmd: ['sh', '-c', 'trap "" TERM; while :; do sleep 1; done'], Labels: label.labels })
    const { Id } = await created.body.json() as { Id: string }
    const started = await call('a', 'POST', `/containers/${Id}/start`)
    await started.body.dump()
    t.equal(started.statusCode, 204, "A's container runs")

    const stops = Array.from({ length: 6 }, async () => {
      const res = await call('a', 'POST', `/containers/${Id}/stop?t=30`)
      return { status: res.statusCode, body: await res.body.text() }
    })
    // Give the stops time to reach the gateway and the daemon.
    await new Promise(resolve => setTimeout(resolve, 1500))

    const t0 = Date.now()
    const list = await call('b', 'GET', '/containers/json?all=1')
    const listed = await list.body.json() as unknown[]
    const ping = await call('b', 'GET', '/_ping')
    const pong = await ping.body.text()
    const elapsed = Date.now() - t0
    t.equal(list.statusCode, 200, "B's list is answered while A's stops wait")
    t.ok(Array.isArray(listed), "B's list is the daemon's JSON list")
    t.equal(pong, 'OK', "B's ping is the daemon's answer")
    t.ok(elapsed < 5000, `B's calls took ${elapsed} ms, not the stops' grace period`)

    // End the wait: kill the container directly on the daemon.
    const killed = await docker(`/containers/${Id}/kill`, { method: 'POST' })
    t.equal(killed.status, 204, 'the container is killed on the daemon')
    const results = await Promise.all(stops)
    const refused = results.filter(r => r.status === 429)
    const done = results.filter(r => r.status === 204)
    t.equal(done.length, SLOTS, `as many stops ran as A has stream slots (${SLOTS})`)
    t.equal(refused.length, 6 - SLOTS, 'the other stops were refused with 429')
    for (const r of refused) t.match(JSON.parse(r.body), { message: /stream/ }, "the 429 has Docker's shape and names the stream limit")
    const inspect = await docker(`/containers/${Id}/json`)
    t.equal((inspect.body as { State: { Running: boolean } }).State.Running, false, 'the container is stopped on the daemon')
  })
}
