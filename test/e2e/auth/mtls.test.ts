// Mutual TLS: with tlsClientAuth require, only clients holding a certificate
// from GATEWAY_TLS_CA get a connection; a mapped certificate is a principal
// with the scopes of its clientCertificates entry; a bearer token, when
// sent, takes precedence. With optional, an untrusted certificate is ignored.
import t from 'tap'
import { Agent, request } from 'undici'
import { requireDaemon } from '../../helpers/env'
import { httpsServerOptions, readTlsFiles } from '../../../src/tls/material'
import { loadConfig } from '../../../src/config/load'
import { startAuthGateway, type AuthGateway } from '../../helpers/auth/gateway'
import { clientCert, makeCa, serverCert, writePem, type Ca, type Issued } from '../../helpers/auth/pki'
import { claims, hs256 } from '../../helpers/auth/tokens'

const d = requireDaemon(t)

const GRANTS = {
  'CN=billing-svc': { scope: 'containers:read', hosts: ['default'] },
  'URI:spiffe://corp/ci': { scope: 'containers:read containers:write', sub: 'ci' }
}

interface Setup { gw: AuthGateway, ca: Ca, client: (cert?: Issued) => Agent }

async function setup (t: { teardown: (fn: () => unknown) => void }, upstream: string, clientAuth: 'require' | 'optional'): Promise<Setup> {
  const ca = await makeCa()
  const server = await serverCert(ca)
  const files = writePem({ 'ca.crt': ca.cert, 'gw.crt': server.cert, 'gw.key': server.key, 'config.json': JSON.stringify({ clientCertificates: GRANTS }) })
  const env = {
    GATEWAY_UPSTREAM: upstream,
    GATEWAY_TLS_CA: files['ca.crt'] as string,
    GATEWAY_TLS_CLIENT_AUTH: clientAuth,
    GATEWAY_CONFIG: files['config.json'] as string
  }
  const config = loadConfig(env)
  const https = httpsServerOptions(readTlsFiles({ cert: files['gw.crt'] as string, key: files['gw.key'] as string, ca: files['ca.crt'] as string }), config.tlsClientAuth)
  const gw = await startAuthGateway(t, { https, env })
  const agents: Agent[] = []
  t.teardown(async () => { await Promise.all(agents.map(async a => { await a.close() })) })
  const client = (cert?: Issued): Agent => {
    const a = new Agent({ connect: { ca: ca.cert, ...(cert !== undefined ? { cert: cert.cert, key: cert.key } : {}) } })
    agents.push(a)
    return a
  }
  return { gw, ca, client }
}

async function get (gw: AuthGateway, agent: Agent, path: string, token?: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number, body: any }> {
  const res = await request(`${gw.url}${path}`, { method, dispatcher: agent, headers: token !== undefined ? { authorization: `Bearer ${token}` } : {} })
  const text = await res.body.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  return { status: res.statusCode, body }
}

if (d !== undefined) {
  t.test('require: a mapped client certificate is the principal', async t => {
    const { gw, ca, client } = await setup(t, d.url, 'require')
    const billing = client(await clientCert(ca, 'billing-svc'))

    const list = await get(gw, billing, '/containers/json')
    t.equal(list.status, 200, 'no token needed: the certificate is the credential')
    let line = gw.audit.lines().at(-1)
    t.match(line, { principal: 'CN=billing-svc', auth: 'mtls', clientCert: 'CN=billing-svc', decision: 'allow', status: 200 })

    const start = await get(gw, billing, '/containers/nope/start', undefined, 'POST')
    t.equal(start.status, 403, 'the mapping grants containers:read only')
    t.same(start.body, { message: 'token lacks the scope "containers:write" needed for POST /containers/:id/start' })

    const ci = client(await clientCert(ca, 'ci-runner', [{ type: 6, value: 'spiffe://corp/ci' }]))
    t.equal((await get(gw, ci, '/_ping')).status, 200)
    line = gw.audit.lines().at(-1)
    t.match(line, { principal: 'ci', auth: 'mtls', clientCert: 'URI:spiffe://corp/ci' }, 'the URI SAN matched; sub names the principal')

    const stranger = client(await clientCert(ca, 'stranger'))
    const refused = await get(gw, stranger, '/_ping')
    t.equal(refused.status, 401, 'a verified but unmapped certificate is no credential')
    t.match(refused.body, { message: /the client certificate CN=stranger is not mapped in clientCertificates/ })
  })

  t.test('require: a bearer token takes precedence over the certificate', async t => {
    const { gw, ca, client } = await setup(t, d.url, 'require')
    const billing = client(await clientCert(ca, 'billing-svc'))
    const alice = hs256(claims({ sub: 'alice', scope: 'containers:read' }))
    t.equal((await get(gw, billing, '/_ping', alice)).status, 200)
    t.match(gw.audit.lines().at(-1), { principal: 'alice', auth: 'jwt', clientCert: 'CN=billing-svc' }, 'the token names the principal; the certificate is recorded')
    const bad = await get(gw, billing, '/_ping', hs256(claims({ exp: Math.floor(Date.now() / 1000) - 5 })))
    t.equal(bad.status, 401, 'a bad token is refused even on a certificate-authenticated connection')
    t.match(bad.body, { message: /expired/ })
  })

  t.test('require: no certificate, or one from another CA, gets no connection', async t => {
    const { gw, client } = await setup(t, d.url, 'require')
    const token = hs256(claims())
    await t.rejects(get(gw, client(), '/_ping', token), 'without a client certificate (even with a valid token)')
    const other = await makeCa('another CA')
    await t.rejects(get(gw, client(await clientCert(other, 'billing-svc')), '/_ping', token), 'a certificate from an untrusted CA, with the right CN')
  })

  t.test('optional: tokens work without a certificate; an untrusted certificate proves nothing', async t => {
    const { gw, ca, client } = await setup(t, d.url, 'optional')
    t.equal((await get(gw, client(), '/_ping', hs256(claims()))).status, 200, 'token, no certificate')
    t.equal((await get(gw, client(await clientCert(ca, 'billing-svc')), '/_ping')).status, 200, 'trusted mapped certificate')
    const other = await makeCa('another CA')
    const forged = await get(gw, client(await clientCert(other, 'billing-svc')), '/_ping')
    t.equal(forged.status, 401, 'untrusted certificate with a mapped CN: 401')
    t.match(forged.body, { message: /^authentication required/ })
  })
}
