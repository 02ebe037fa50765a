import net from 'node:net'
import http from 'node:http'
import crypto from 'node:crypto'
import t from 'tap'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { USER_SCOPES } from '../../helpers/clients/clients'

/** One raw HTTP/1.1 exchange; the whole answer as text. */
async function raw (port: number, head: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    s.on('data', c => chunks.push(c))
    s.on('error', reject)
    s.on('close', () => { resolve(Buffer.concat(chunks).toString('latin1')) })
    s.write(head)
  })
}

/**
 * Guards an absolute-form request target (`GET http://x/images/...`, RFC 9112
 * §3.2.2): fastify's router strips the scheme and host and routes the rest,
 * so the canonical-path guard must refuse it, or dot and empty segments reach
 * the image wildcard and, unescaped, the daemon
 * (`/images/x/../../containers/<another principal's id>/json`). Found by an
 * attack on this session's request path; a recorder between gateway and
 * daemon shows what the daemon was sent.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('an absolute-form target is refused; the daemon never gets a dot or empty segment', async t => {
    // A recorder between the gateway and the daemon: the paths the daemon is sent.
    const seen: string[] = []
    const upstream = new URL(d.httpUrl ?? d.url.replace('tcp:', 'http:'))
    const recorder = http.createServer((req, res) => {
      seen.push(req.url ?? '')
      const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (r) => { res.writeHead(r.statusCode ?? 502, r.headers); r.pipe(res) })
      req.pipe(up)
    })
    await new Promise<void>(resolve => recorder.listen(0, '127.0.0.1', resolve))
    t.teardown(() => { recorder.close() })
    const port = (recorder.address() as net.AddressInfo).port
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: `tcp://127.0.0.1:${port}` })
    const sfx = crypto.randomBytes(3).toString('hex')
    const alice = gw.token({ sub: `alice-${sfx}`, scope: USER_SCOPES + ' images:read' })
    const bobId = (await docker<{ Id: string }>('/containers/create', { json: { Image: d.image, Cmd: ['true'], Labels: { ...label.labels, 'docker-gateway.owner': `bob-${sfx}` } } })).body.Id

    const origin = await raw(gw.port, `GET /images/x/../../containers/${bobId}/json HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${alice}\r\nconnection: close\r\n\r\n`)
    t.match(origin, /^HTTP\/1.1 400/, 'origin-form: refused by the guard')

    seen.length = 0
    const abs = await raw(gw.port, `GET http://x/images/x/../../containers/${bobId}/json HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${alice}\r\nconnection: close\r\n\r\n`)
    t.comment(abs.slice(0, 600))
    t.comment(`daemon was sent: ${JSON.stringify(seen)}`)
    t.notOk(seen.some(p => p.includes('..')), 'the daemon is never sent a dot segment')
    t.match(abs, /^HTTP\/1.1 400/, 'absolute-form: refused like origin-form')

    seen.length = 0
    const empty = await raw(gw.port, `GET http://x/images/x//json HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${alice}\r\nconnection: close\r\n\r\n`)
    t.comment(empty.slice(0, 300))
    t.comment(`daemon was sent: ${JSON.stringify(seen)}`)
    t.notOk(seen.some(p => p.includes('//')), 'the daemon is never sent an empty segment')
  })
}
