import crypto from 'node:crypto'
import t from 'tap'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { waitFor } from '../../helpers/wait'
import { requestHead, talk } from '../../helpers/security/raw-http'
import { added, daemonSockets } from '../../helpers/security/daemon-sockets'

/**
 * Request smuggling around upgrades, on the real gateway and daemon (issue
 * 10: proven only on the stand-in app before). Bytes after an upgrade
 * request belong to the new protocol: they must never be read as a request,
 * neither by the gateway nor by the daemon, whatever happens to the upgrade
 * (refused by the gateway, refused by the daemon on a keep-alive connection,
 * switched, sent to a route that does not upgrade, or to the wrong protocol).
 * Each smuggled request is a valid, authorised create with its own name; the
 * proof is on the daemon: no container of that name exists afterwards.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('nothing is smuggled past an upgrade', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const all = 'containers:read containers:write containers:export containers:exec'
    const run = crypto.randomBytes(3).toString('hex')
    const owner = gw.token({ sub: `owner-${run}`, scope: all })
    const auth = { Authorization: `Bearer ${owner}` }
    const post = async (path: string, json?: unknown): Promise<any> => {
      const body = json !== undefined ? JSON.stringify(json) : ''
      const res = await talk(gw.port, [requestHead('POST', path, { ...auth, Connection: 'close', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }) + body])
      if (res.status >= 300) throw new Error(`${path} answered ${res.status} ${res.body}`)
      return res.body !== '' ? JSON.parse(res.body) : undefined
    }
    const catId = (await post('/containers/create', { Image: d.image, Cmd: ['cat'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, Labels: label.labels })).Id as string
    // A second one for the wrong-protocol cases: the switched attach below ends the first.
    const catId2 = (await post('/containers/create', { Image: d.image, Cmd: ['cat'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, Labels: label.labels })).Id as string
    const sleepId = (await post('/containers/create', { Image: d.image, Cmd: ['sleep', '600'], Labels: label.labels })).Id as string
    for (const id of [catId, catId2, sleepId]) t.equal((await docker(`/containers/${id}/start`, { method: 'POST' })).status, 204)
    const execId = (await post(`/containers/${sleepId}/exec`, { Cmd: ['true'], AttachStdout: true })).Id as string

    const smuggledNames: string[] = []
    /** A complete, authorised create request with a fresh name: if anything parses it, a container appears. */
    const smuggled = (): string => {
      const name = `smuggled-${run}-${smuggledNames.length}`
      smuggledNames.push(name)
      const body = JSON.stringify({ Image: d.image, Cmd: ['true'], Labels: label.labels })
      return requestHead('POST', `/containers/create?name=${name}`, { ...auth, 'Content-Type': 'application/json', 'Content-Length': body.length }) + body
    }
    const execBody = '{"Detach":false,"Tty":false}'
    const execStart = (id: string, upgrade = 'tcp'): string => requestHead('POST', `/exec/${id}/start`, { ...auth, Connection: 'Upgrade', Upgrade: upgrade, 'Content-Type': 'application/json', 'Content-Length': execBody.length }) + execBody

    await t.test('bytes after an upgrade the gateway refuses (no such exec)', async t => {
      const res = await talk(gw.port, [execStart('0'.repeat(64)) + smuggled()])
      t.equal(res.status, 404)
      t.equal(res.responses, 1, 'exactly one response')
      t.ok(res.closed, 'then the connection is closed')
    })

    await t.test('bytes after an upgrade the daemon refuses on a keep-alive connection', async t => {
      // A second exec the gateway has already resolved (cached exec -> container), whose
      // container then stops: the daemon drops the exec and answers its start with an
      // ordinary keep-alive 404 (exec start checks the id before it hijacks). Had the
      // gateway written the client's bytes before the daemon's 101, the daemon would now
      // read the smuggled create as the next request on that connection.
      const victim = (await post('/containers/create', { Image: d.image, Cmd: ['sleep', '600'], Labels: label.labels })).Id as string
      t.equal((await docker(`/containers/${victim}/start`, { method: 'POST' })).status, 204)
      const dropped = (await post(`/containers/${victim}/exec`, { Cmd: ['true'], AttachStdout: true })).Id as string
      const seen = await talk(gw.port, [requestHead('GET', `/exec/${dropped}/json`, { ...auth, Connection: 'close' })])
      t.equal(seen.status, 200, 'the gateway resolved the exec')
      t.equal((await docker(`/containers/${victim}/kill`, { method: 'POST' })).status, 204)
      await waitFor(async () => (await docker(`/exec/${dropped}/json`)).status === 404, 5000)
      const before = daemonSockets(d.port as number)
      const res = await talk(gw.port, [execStart(dropped) + smuggled()])
      t.equal(res.status, 404, 'the daemon\'s refusal reaches the client')
      t.same(JSON.parse(res.body), { message: `No such exec instance: ${dropped}` })
      t.equal(res.responses, 1, 'exactly one response')
      await waitFor(() => added(before, daemonSockets(d.port as number)).length === 0, 5000)
      t.pass('the daemon connection of the refused upgrade is closed, not left idle')
    })

    await t.test('a request pipelined after a switched upgrade is stream data, not a request', async t => {
      const res = await talk(gw.port, [requestHead('POST', `/containers/${catId}/attach?stream=1&stdin=1&stdout=1`, { ...auth, Connection: 'Upgrade', Upgrade: 'tcp' }) + smuggled(), 1500, '<END>'], 8000)
      t.equal(res.status, 101, 'switched')
      t.equal(res.responses, 1, 'one HTTP response: the 101')
      t.match(res.text, `/containers/create?name=${smuggledNames[smuggledNames.length - 1] as string}`, 'the pipelined bytes reached cat\'s stdin and came back as its output')
    })

    await t.test('a request pipelined after a refused (unauthenticated) upgrade is never answered', async t => {
      const res = await talk(gw.port, [requestHead('POST', `/exec/${execId}/start`, { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': execBody.length }) + execBody + smuggled()])
      t.equal(res.status, 401)
      t.equal(res.responses, 1, 'exactly one response')
      t.ok(res.closed)
    })

    await t.test('an Upgrade header on a route that does not upgrade gets the ordinary answer, then the connection closes', async t => {
      const res = await talk(gw.port, [requestHead('GET', `/containers/${sleepId}/json`, { ...auth, Connection: 'Upgrade', Upgrade: 'tcp' }) + smuggled()])
      t.equal(res.status, 200, 'the ordinary inspect')
      t.equal((JSON.parse(res.body) as { Id: string }).Id, sleepId)
      t.equal(res.responses, 1, 'exactly one response, no 101')
      t.ok(res.closed)
      const unknown = await talk(gw.port, [requestHead('POST', '/volumes/prune', { ...auth, Connection: 'Upgrade', Upgrade: 'tcp' }) + smuggled()])
      t.equal(unknown.status, 404, 'an upgrade to a path outside the allow-list')
      t.equal(unknown.responses, 1)
    })

    await t.test('an upgrade to the wrong protocol is refused before the daemon', async t => {
      const cases: Array<[string, string]> = [
        ['h2c to attach', requestHead('POST', `/containers/${catId2}/attach?stream=1&stdin=1&stdout=1`, { ...auth, Connection: 'Upgrade, HTTP2-Settings', Upgrade: 'h2c', 'HTTP2-Settings': 'AAMAAABkAARAAAAAAAIAAAAA' })],
        ['websocket to attach (the tcp route)', requestHead('POST', `/containers/${catId2}/attach?stream=1&stdin=1&stdout=1`, { ...auth, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' })],
        ['tcp to attach/ws', requestHead('GET', `/containers/${catId2}/attach/ws?stream=1&stdin=1&stdout=1`, { ...auth, Connection: 'Upgrade', Upgrade: 'tcp' })],
        ['h2c to attach/ws', requestHead('GET', `/containers/${catId2}/attach/ws?stream=1&stdin=1&stdout=1`, { ...auth, Connection: 'Upgrade', Upgrade: 'h2c' })],
        ['h2c to exec start', execStart(execId, 'h2c')],
        ['websocket to exec start', execStart(execId, 'websocket')]
      ]
      for (const [what, head] of cases) {
        const before = daemonSockets(d.port as number)
        const res = await talk(gw.port, [head + smuggled()])
        t.equal(res.status, 400, what)
        t.match(JSON.parse(res.body), { message: /upgrades only to "(tcp|websocket)"/ }, `${what}: says which protocol`)
        t.equal(res.responses, 1, `${what}: one response`)
        t.ok(res.closed, `${what}: closed`)
        // The ownership lookup may reuse or open a short-pool connection; no upgrade connection may stay.
        await waitFor(() => added(before, daemonSockets(d.port as number)).length <= 1, 3000)
      }
      const cat = (await docker(`/containers/${catId2}/json`)).body
      t.equal(cat.State.Running, true, 'no attach reached the StdinOnce container (it would have ended)')
      const e = (await docker(`/exec/${execId}/json`)).body
      t.equal(e.Pid, 0, 'the exec never started')
      t.equal(e.ExitCode, null)
    })

    await t.test('none of the smuggled creates ran', async t => {
      t.ok(smuggledNames.length >= 10, `${smuggledNames.length} smuggled requests`)
      for (const name of smuggledNames) {
        t.equal((await docker(`/containers/${name}/json`)).status, 404, name)
      }
      const list = await docker<unknown[]>('/containers/json', { query: { all: true, filters: { name: [`smuggled-${run}`] } } })
      t.same(list.body, [], 'no container by any smuggled name')
    })
  })
}
