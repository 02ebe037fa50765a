// HTTPS with a certificate from a test CA: a client that trusts the CA gets
// through (undici and curl), one that does not is refused at the handshake,
// and TLS below 1.2 is not spoken at all.
import t from 'tap'
import tls from 'node:tls'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Agent, request } from 'undici'
import { requireDaemon } from '../../helpers/env'
import { httpsServerOptions, readTlsFiles } from '../../../src/tls/material'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { makeCa, serverCert, writePem } from '../../helpers/auth/pki'
import { claims, hs256 } from '../../helpers/auth/tokens'

const run = promisify(execFile)
const d = requireDaemon(t)

if (d !== undefined) {
  t.test('HTTPS with a test CA', async t => {
    const ca = await makeCa()
    const server = await serverCert(ca)
    const files = writePem({ 'ca.crt': ca.cert, 'gw.crt': server.cert, 'gw.key': server.key })
    const https = httpsServerOptions(readTlsFiles({ cert: files['gw.crt'] as string, key: files['gw.key'] as string }), 'none')
    const gw = await startAuthGateway(t, { https, env: { GATEWAY_UPSTREAM: d.url } })
    const token = hs256(claims({ scope: 'containers:read' }))

    const trusting = new Agent({ connect: { ca: ca.cert } })
    t.teardown(async () => { await trusting.close() })
    const res = await request(`${gw.url}/containers/json`, { dispatcher: trusting, headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 200, 'undici with the CA: 200 from the daemon')
    t.ok(Array.isArray(await res.body.json()))
    const local = await request(`https://localhost:${gw.port}/_ping`, { dispatcher: trusting, headers: { authorization: `Bearer ${token}` } })
    t.equal(await local.body.text(), 'OK', 'the localhost name verifies too')

    const plain = new Agent()
    t.teardown(async () => { await plain.close() })
    await t.rejects(request(`${gw.url}/_ping`, { dispatcher: plain }), { code: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/ }, 'undici without the CA: refused')

    const ok = await run('curl', ['-sS', '--cacert', files['ca.crt'] as string, '-H', `Authorization: Bearer ${token}`, `${gw.url}/_ping`])
    t.equal(ok.stdout, 'OK', 'curl --cacert: OK')
    const bad = await run('curl', ['-sS', `${gw.url}/_ping`]).then(() => 0, (err: { code: number }) => err.code)
    t.equal(bad, 60, 'curl without --cacert: exit 60 (peer certificate cannot be authenticated)')

    const old = await new Promise<string>(resolve => {
      const s = tls.connect({ host: '127.0.0.1', port: gw.port, ca: ca.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' })
      s.on('secureConnect', () => { s.destroy(); resolve('connected') })
      s.on('error', (err: NodeJS.ErrnoException) => { resolve(err.code ?? err.message) })
    })
    t.not(old, 'connected', `TLS 1.1 is refused (${old})`)
  })
}
