// GATEWAY_JWKS_URL: keys fetched from an identity provider's JWK set (a
// local HTTP server here), cached, refreshed for a new kid, never fetched
// per made-up kid, and matched to the token's algorithm.
import t from 'tap'
import http from 'node:http'
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { claims, signWith, hs256 } from '../../helpers/auth/tokens'

const PASSED = '/swarm' // authenticated, then not in the allow-list: 404

interface Idp { url: string, fetches: number, keys: JsonWebKey[], up: boolean }

async function startIdp (t: { teardown: (fn: () => unknown) => void }): Promise<Idp> {
  const idp: Idp = { url: '', fetches: 0, keys: [], up: true }
  const server = http.createServer((req, res) => {
    if (req.url !== '/oauth/jwks.json') { res.statusCode = 404; res.end(); return }
    idp.fetches++
    if (!idp.up) { res.statusCode = 500; res.end('{}'); return }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ keys: idp.keys }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const port = (server.address() as { port: number }).port
  idp.url = `http://127.0.0.1:${port}/oauth/jwks.json`
  return idp
}

function jwkOf (pair: ReturnType<typeof generateKeyPairSync>, kid: string, extra: Record<string, string> = {}): JsonWebKey {
  return { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig', ...extra }
}

t.test('tokens verify with keys from the JWK set', async t => {
  const idp = await startIdp(t)
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ed = generateKeyPairSync('ed25519')
  idp.keys = [jwkOf(rsa, 'rsa-1', { alg: 'RS256' }), jwkOf(ec, 'ec-1'), jwkOf(ed, 'ed-1')]
  const gw = await startAuthGateway(t, { env: { GATEWAY_JWKS_URL: idp.url, GATEWAY_JWT_ISSUER: 'https://idp.example' }, jwtSecret: null })
  const call = async (token: string): Promise<[number, string]> => {
    const res = await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${token}` } })
    return [res.statusCode, (res.json() as { message: string }).message]
  }
  const c = claims({ iss: 'https://idp.example' })

  t.same(await call(signWith(rsa.privateKey, 'RS256', c, 'rsa-1')), [404, 'page not found'], 'RS256')
  t.same(await call(signWith(ec.privateKey, 'ES256', c, 'ec-1')), [404, 'page not found'], 'ES256')
  t.same(await call(signWith(ed.privateKey, 'EdDSA', c, 'ed-1')), [404, 'page not found'], 'EdDSA')
  const fetched = idp.fetches
  t.ok(fetched >= 1 && fetched <= 3, `fetched once per kid at most (${fetched})`)
  for (let i = 0; i < 5; i++) await call(signWith(ec.privateKey, 'ES256', claims({ iss: 'https://idp.example', jti: String(i) }), 'ec-1'))
  t.equal(idp.fetches, fetched, 'keys are cached')

  // A JWK without `alg`: its kind decides. With `alg`: get-jwks matches it too.
  t.match(await call(signWith(rsa.privateKey, 'RS256', c, 'ec-1')), [401, /RS256 does not fit the signing key/], 'RS256 token naming the EC key')
  t.match(await call(signWith(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'ES384', c, 'ec-1')), [401, /ES384 does not fit the signing key/], 'ES384 token naming a P-256 key')
  t.match(await call(signWith(ed.privateKey, 'EdDSA', c, 'rsa-1')), [401, /not in the key set/], 'EdDSA token naming the RS256 JWK')
  t.match(await call(signWith(rsa.privateKey, 'RS384', c, 'rsa-1')), [401, /not in the key set/], 'the JWK pins alg RS256')
  t.match(await call(hs256(c)), [401, /algorithm is not accepted/], 'no HMAC with a JWK set')
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  t.match(await call(signWith(other.privateKey, 'ES256', c, 'ec-1')), [401, /bad signature/], 'right kid, wrong key')
  t.match(await call(signWith(ec.privateKey, 'ES256', claims({ iss: 'https://evil.example' }), 'ec-1')), [401, /issuer/], 'issuer still checked')
})

t.test('a new kid refreshes the set; made-up kids do not hammer the IdP', async t => {
  const idp = await startIdp(t)
  const k1 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const k2 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  idp.keys = [jwkOf(k1, 'k1')]
  const gw = await startAuthGateway(t, { env: { GATEWAY_JWKS_URL: idp.url }, jwtSecret: null })
  const call = async (token: string): Promise<number> => (await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${token}` } })).statusCode

  t.equal(await call(signWith(k1.privateKey, 'ES256', claims(), 'k1')), 404)
  // Rotation: the IdP publishes k2 and starts signing with it.
  idp.keys = [jwkOf(k1, 'k1'), jwkOf(k2, 'k2')]
  t.equal(await call(signWith(k2.privateKey, 'ES256', claims(), 'k2')), 404, 'the new key is fetched on first sight')

  const before = idp.fetches
  const res = await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${signWith(k1.privateKey, 'ES256', claims(), 'nope')}` } })
  t.equal(res.statusCode, 401)
  t.match(res.json(), { message: /signing key \(kid\) is not in the key set/ })
  for (let i = 0; i < 20; i++) await call(signWith(k1.privateKey, 'ES256', claims({ jti: String(i) }), 'nope'))
  t.equal(idp.fetches, before + 1, 'an unknown kid is looked up once, then answered from memory')
})

t.test('an unreachable IdP is a 503, not a 401', async t => {
  const idp = await startIdp(t)
  idp.up = false
  const k1 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const gw = await startAuthGateway(t, { env: { GATEWAY_JWKS_URL: idp.url }, jwtSecret: null })
  const res = await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${signWith(k1.privateKey, 'ES256', claims(), 'k1')}` } })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { message: /signing keys cannot be fetched from http:\/\/127\.0\.0\.1:\d+ \(JWKS_REQUEST_FAILED\)/ })
})
