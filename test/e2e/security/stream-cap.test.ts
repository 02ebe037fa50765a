import crypto from 'node:crypto'
import t from 'tap'
import { Agent, type Dispatcher } from 'undici'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { countDaemonConnections } from '../../helpers/net'
import { waitFor } from '../../helpers/wait'
import { talk, requestHead } from '../../helpers/security/raw-http'
import { callerOf, startWatchedGateway } from '../../helpers/security/gateway-app'

/**
 * Issue 10 finding 2, streams: an authenticated principal had no cap on
 * concurrent streams (logs?follow, stats, export, wait, attach, exec start),
 * each of which holds a daemon connection for as long as it lasts. With
 * limits.streamsPerPrincipal = 2 the third stream of a principal is a 429 in
 * Docker's shape before anything reaches the daemon, another principal
 * still streams, and a slot is free again once one of the streams ends.
 */
const CAP = 2
const d = requireDaemon(t)

if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('the stream cap is per principal, refuses before forwarding, and frees on close', async t => {
    const daemonPort = d.port
    if (daemonPort === null) { t.fail(`the daemon ${d.url} has no TCP port to count connections on`); return }
    const gw = await startWatchedGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_STREAMS_PER_PRINCIPAL: String(CAP) })
    const run = crypto.randomBytes(3).toString('hex')
    const tokens = { a: gw.token(`a-${run}`), b: gw.token(`b-${run}`) }
    const agent = new Agent({ connections: 16 })
    t.teardown(async () => { await agent.destroy() })
    const call = callerOf(gw.url, agent, tokens)
    const ticker = async (who: 'a' | 'b'): Promise<string> => {
      const created = await call(who, 'POST', '/containers/create', { Image: d.image, Cmd: ['sh', '-c', 'while true; do echo tick; sleep 0.2; done'], Labels: label.labels })
      const { Id } = await created.body.json() as { Id: string }
      const started = await call(who, 'POST', `/containers/${Id}/start`)
      await started.body.dump()
      t.equal(started.statusCode, 204, `${who}'s container started`)
      return Id
    }
    const containers = { a: await ticker('a'), b: await ticker('b') }
    const follow = async (who: 'a' | 'b'): Promise<Dispatcher.ResponseData> => await call(who, 'GET', `/containers/${containers[who]}/logs?follow=1&stdout=1`)
    const firstBytes = async (res: Dispatcher.ResponseData): Promise<void> => {
      await new Promise((resolve, reject) => { res.body.once('data', resolve); res.body.once('error', reject) })
    }

    const a1 = await follow('a')
    const a2 = await follow('a')
    t.equal(a1.statusCode, 200)
    t.equal(a2.statusCode, 200)
    await firstBytes(a1)
    await firstBytes(a2)
    const streaming = countDaemonConnections(daemonPort)
    t.ok(streaming >= CAP, `a's ${CAP} streams each hold a daemon connection (${streaming} open)`)

    const refused = await follow('a')
    t.equal(refused.statusCode, 429, 'a\'s third stream: 429')
    t.match(refused.headers['content-type'], /application\/json/)
    const body = await refused.body.json() as { message: string }
    t.match(body, { message: /too many concurrent streams: at most 2 per principal/ }, 'in Docker\'s error shape')
    t.ok(countDaemonConnections(daemonPort) <= streaming, 'no daemon connection was opened for it')

    // A hijacked stream counts too: exec start with Upgrade: tcp is refused the same way.
    const exec = await call('a', 'POST', `/containers/${containers.a}/exec`, { Cmd: ['echo', 'hi'], AttachStdout: true })
    const { Id: execId } = await exec.body.json() as { Id: string }
    const execBody = JSON.stringify({ Detach: false, Tty: false })
    const upgrade = await talk(gw.port, [requestHead('POST', `/exec/${execId}/start`, { Authorization: `Bearer ${tokens.a}`, 'Content-Type': 'application/json', 'Content-Length': execBody.length, Connection: 'Upgrade', Upgrade: 'tcp' }) + execBody], 5000)
    t.equal(upgrade.status, 429, 'a\'s exec start (upgrade) beyond the cap: 429')
    t.match(JSON.parse(upgrade.body), { message: /too many concurrent streams/ })
    const execState = await call('a', 'GET', `/exec/${execId}/json`)
    t.match(await execState.body.json(), { Running: false, ExitCode: null }, 'the refused exec never started on the daemon')

    const b1 = await follow('b')
    t.equal(b1.statusCode, 200, 'b streams while a is at its cap')
    await firstBytes(b1)

    a1.body.destroy()
    await waitFor(async () => {
      const again = await follow('a')
      if (again.statusCode !== 200) { await again.body.dump(); return false }
      await firstBytes(again)
      again.body.destroy()
      return true
    }, 5000)
    t.pass('after one of a\'s streams ended, a may open a new one')
    a2.body.destroy()
    b1.body.destroy()

    const denied = gw.audit().filter(l => l.status === 429)
    t.ok(denied.length >= 2 && denied.every(l => l.decision === 'deny' && l.reason === 'limit: streams per principal' && l.principal === `a-${run}`), 'each refusal has its audit line')
    t.equal(gw.log().filter(l => l.limit === 'streamsPerPrincipal').length, 1, 'one log line for the repeated refusals')
  })
}
