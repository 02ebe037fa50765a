import crypto from 'node:crypto'
import net from 'node:net'
import t from 'tap'
import { mintToken, startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { waitFor } from '../../helpers/wait'
import { requestHead, talk } from '../../helpers/security/raw-http'
import { added, daemonSockets } from '../../helpers/security/daemon-sockets'

/**
 * Unauthenticated and unauthorised upgrades on the real gateway (issue 10:
 * proven only on the stand-in app before): attach (Upgrade: tcp), attach/ws
 * (Upgrade: websocket) and exec start (Upgrade: tcp) without a token, with a
 * bad one, with a read-only scope and as another principal are answered with
 * an ordinary 401/403/404 and a closed connection -- never a 101 -- and
 * nothing reaches the daemon: no daemon connection is opened for a 401/403,
 * the attached container's stdin (StdinOnce: closed by the daemon when an
 * attach with stdin ends) is never touched, and the exec never starts.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('upgrades without the right credentials never reach the daemon', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const all = 'containers:read containers:write containers:export containers:exec'
    const run = crypto.randomBytes(3).toString('hex')
    const owner = gw.token({ sub: `owner-${run}`, scope: all })
    const create = async (json: Record<string, unknown>): Promise<string> => {
      const res = await talk(gw.port, [requestHead('POST', '/containers/create', { Authorization: `Bearer ${owner}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(JSON.stringify(json)), Connection: 'close' }) + JSON.stringify(json)])
      if (res.status !== 201) throw new Error(`create answered ${res.status} ${res.body}`)
      return (JSON.parse(res.body) as { Id: string }).Id
    }
    // `cat` on a stdin the daemon closes when the first attach with stdin ends (StdinOnce):
    // any attach that reached the daemon ends the container.
    const catId = await create({ Image: d.image, Cmd: ['cat'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, Labels: label.labels })
    const sleepId = await create({ Image: d.image, Cmd: ['sleep', '600'], Labels: label.labels })
    for (const id of [catId, sleepId]) t.equal((await docker(`/containers/${id}/start`, { method: 'POST' })).status, 204)
    const exec = await docker<{ Id: string }>(`/containers/${sleepId}/exec`, { json: { Cmd: ['true'], AttachStdout: true } })
    t.equal(exec.status, 201)
    const execId = exec.body.Id
    const catBefore = (await docker(`/containers/${catId}/json`)).body.State

    const credentials: Array<[string, Record<string, string>, number]> = [
      ['no token', {}, 401],
      ['a malformed token', { Authorization: 'Bearer not-a-jwt' }, 401],
      ['a token signed with another key', { Authorization: `Bearer ${mintToken('another-secret-0123456789abcdef0123456789', { sub: `owner-${run}`, scope: all })}` }, 401],
      ['an expired token', { Authorization: `Bearer ${gw.token({ sub: `owner-${run}`, scope: all, ttlSec: -120 })}` }, 401],
      ['Basic credentials', { Authorization: 'Basic b3duZXI6cGFzcw==' }, 401],
      ['a read-only token', { Authorization: `Bearer ${gw.token({ sub: `owner-${run}`, scope: 'containers:read' })}` }, 403],
      ['a token without containers:exec', { Authorization: `Bearer ${gw.token({ sub: `owner-${run}`, scope: 'containers:read containers:write containers:export' })}` }, 403],
      ['another principal', { Authorization: `Bearer ${gw.token({ sub: `other-${run}`, scope: all })}` }, 404]
    ]
    const body = '{"Detach":false,"Tty":false}'
    const upgrades: Array<[string, (auth: Record<string, string>) => string]> = [
      ['attach (Upgrade: tcp)', auth => requestHead('POST', `/containers/${catId}/attach?stream=1&stdin=1&stdout=1`, { ...auth, Connection: 'Upgrade', Upgrade: 'tcp' }) + 'stdin bytes\n'],
      ['attach/ws (Upgrade: websocket)', auth => requestHead('GET', `/containers/${catId}/attach/ws?stream=1&stdin=1&stdout=1`, { ...auth, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' })],
      ['exec start (Upgrade: tcp)', auth => requestHead('POST', `/exec/${execId}/start`, { ...auth, Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': body.length }) + body],
      // A body announced and never sent: the refusal must not wait for it.
      ['exec start announcing a body it never sends (401 only: a valid token has its body read before the scope is judged)', auth => requestHead('POST', `/exec/${execId}/start`, { ...auth, Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': 500 })]
    ]

    for (const [who, auth, status] of credentials) {
      for (const [what, raw] of upgrades) {
        if (status !== 401 && what.includes('never sends')) continue
        await t.test(`${what} with ${who}: ${status}`, async t => {
          const socketsBefore = daemonSockets(d.port as number)
          const started = Date.now()
          const res = await talk(gw.port, [raw(auth)], 8000)
          t.equal(res.status, status, res.text.slice(0, 200))
          t.equal(res.responses, 1, 'exactly one response, no 101')
          t.notMatch(res.text, /^HTTP\/1\.1 101/m, 'never switched protocols')
          t.match(res.head, /\r\ncontent-type: application\/json/i, 'an ordinary JSON error')
          t.type((JSON.parse(res.body) as { message: unknown }).message, 'string')
          t.ok(res.closed, 'the gateway closed the connection')
          t.ok(Date.now() - started < 5000, 'promptly')
          if (status !== 404) t.same(added(socketsBefore, daemonSockets(d.port as number)), [], 'no daemon connection was opened')
        })
      }
    }

    await t.test('the daemon saw no attach and no exec start', async t => {
      const cat = (await docker(`/containers/${catId}/json`)).body
      t.equal(cat.State.Running, true, 'the StdinOnce container still runs: no attach with stdin reached it')
      t.equal(cat.State.Pid, catBefore.Pid)
      t.equal(cat.State.StartedAt, catBefore.StartedAt)
      const e = (await docker(`/exec/${execId}/json`)).body
      t.equal(e.Running, false)
      t.equal(e.Pid, 0, 'the exec never started')
      t.equal(e.ExitCode, null)
      t.same((await docker(`/containers/${sleepId}/json`)).body.ExecIDs, [execId], 'no other exec was created')
    })

    await t.test('control: the owner\'s attach does reach the daemon, and ends the StdinOnce container', async t => {
      const socket = net.connect(gw.port, '127.0.0.1')
      let text = ''
      socket.on('data', (c: Buffer) => { text += c.toString('latin1') })
      socket.write(requestHead('POST', `/containers/${catId}/attach?stream=1&stdin=1&stdout=1`, { Authorization: `Bearer ${owner}`, Connection: 'Upgrade', Upgrade: 'tcp' }))
      await waitFor(() => text.includes('\r\n\r\n'), 5000)
      t.match(text, /^HTTP\/1\.1 101/, 'switched protocols')
      socket.write('echo-me\n')
      await waitFor(() => text.includes('echo-me'), 5000)
      t.pass('stdin reached cat and its output came back')
      socket.end()
      await waitFor(async () => (await docker(`/containers/${catId}/json`)).body.State.Running === false, 10_000)
      t.pass('the container ended once the attach closed: the detector above works')
      socket.destroy()
      const ok = await talk(gw.port, [requestHead('POST', `/exec/${execId}/start`, { Authorization: `Bearer ${owner}`, Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': body.length }) + body], 8000)
      t.match(ok.text, /^HTTP\/1\.1 101/, 'the owner\'s exec start switches protocols')
      await waitFor(async () => (await docker(`/exec/${execId}/json`)).body.ExitCode === 0, 10_000)
      t.pass('and the exec ran: the exec check above works')
    })
  })
}
