import Docker from 'dockerode'
import t from 'tap'
import { request } from 'undici'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { waitFor } from '../../helpers/wait'
import { requestHead, talk } from '../../helpers/security/raw-http'
import { added, daemonSockets } from '../../helpers/security/daemon-sockets'
import { startUpgradeGateway } from '../../helpers/upgrade/gateway'

// Upgrade requests that are answered without switching, on the real gateway. (Bytes sent after
// a refused upgrade, and smuggling in general: test/e2e/security/upgrade-smuggling.test.ts.)
const d = requireDaemon(t)
const label = testLabel(__filename)

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  // dockerd hijacks attach before it looks the container up and writes its 404 raw
  // (daemon/server/router/container/container_routes.go postContainersAttach); the gateway
  // resolves the reference first (ownership), so the client gets an ordinary JSON 404.
  // (pipeUpgrade's relay of the daemon's raw answer: test/inject/upgrade/pipe-upgrade.test.ts.)
  t.test('attach to a container that does not exist: a JSON 404, then the connection closes', async t => {
    const gw = await startUpgradeGateway(t)
    const res = await talk(gw.port, [requestHead('POST', '/containers/no-such-dgw-container/attach?stream=1&stdout=1', { Authorization: `Bearer ${gw.token}`, Connection: 'Upgrade', Upgrade: 'tcp' })])
    t.equal(res.status, 404)
    t.same(JSON.parse(res.body), { message: 'No such container: no-such-dgw-container' })
    t.equal(res.responses, 1)
    t.ok(res.closed, 'the gateway closed the connection')
    await waitFor(() => gw.audit.length > 0, 5000)
    t.match(gw.audit[0], { route: 'POST /containers/:id/attach', status: 404 })
  })

  t.test('dockerode shows the message for a hijacked attach that is refused', async t => {
    const gw = await startUpgradeGateway(t)
    const client = new Docker({ host: '127.0.0.1', port: gw.port, headers: gw.headers } as Docker.DockerOptions)
    const err = await client.getContainer('no-such-dgw-container').attach({ stream: true, stdout: true, hijack: true }).then(() => undefined, (e: unknown) => e)
    t.match(err, { statusCode: 404, message: /No such container: no-such-dgw-container/ })
  })

  // Exec start checks the exec id before it hijacks: an ordinary JSON error with a length, on
  // a connection the daemon keeps alive. The gateway must relay it and close that connection.
  t.test('exec start for an exec the daemon dropped: its JSON 404 is relayed as a normal response', async t => {
    const gw = await startUpgradeGateway(t)
    const id = await gw.create({ Image: d.image, Labels: label.labels, Cmd: ['sleep', '300'] })
    const exec = await request(`${gw.url}/containers/${id}/exec`, { method: 'POST', headers: { ...gw.headers, 'content-type': 'application/json' }, body: JSON.stringify({ Cmd: ['true'], AttachStdout: true }) })
    t.equal(exec.statusCode, 201)
    const execId = (await exec.body.json() as { Id: string }).Id
    // The gateway resolves the exec (and keeps exec -> container), then the container stops
    // and the daemon drops the exec: the start reaches the daemon, which refuses it.
    const seen = await request(`${gw.url}/exec/${execId}/json`, { headers: gw.headers })
    t.equal(seen.statusCode, 200)
    await seen.body.dump()
    t.equal((await docker(`/containers/${id}/kill`, { method: 'POST' })).status, 204)
    await waitFor(async () => (await docker(`/exec/${execId}/json`)).status === 404, 5000)
    const before = daemonSockets(d.port as number)
    const body = '{"Detach":false,"Tty":false}'
    const res = await talk(gw.port, [requestHead('POST', `/exec/${execId}/start`, { Authorization: `Bearer ${gw.token}`, Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': body.length }) + body])
    t.equal(res.status, 404)
    t.match(res.head, /\r\nContent-Type: application\/json/i)
    t.match(res.head, /\r\nContent-Length: \d+/i)
    t.same(JSON.parse(res.body), { message: `No such exec instance: ${execId}` })
    await waitFor(() => added(before, daemonSockets(d.port as number)).length === 0, 5000)
    t.pass('no daemon connection left open')
  })
}
