// Every way a bearer token can be wrong is a 401 with an RFC 6750 challenge
// and a Docker-shaped body that says which, never echoing the token.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { claims, forgeHs256, hs256, now, signWith, unsigned, b64url, SECRET } from '../../helpers/auth/tokens'

// Not in the allow-list: a request that passes authentication gets 404 "page not found".
const PASSED = '/swarm' // authenticated, then not in the allow-list: 404

t.test('HS256 gateway', async t => {
  const gw = await startAuthGateway(t)
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const valid = hs256(claims())
  const [vh, vp] = valid.split('.') as [string, string, string]

  const res = await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${valid}` } })
  t.equal(res.statusCode, 404, 'a valid token passes authentication')
  t.same(res.json(), { message: 'page not found' })
  t.equal(res.headers['www-authenticate'], undefined, 'no challenge on success')

  const cases: Array<{ name: string, authorization?: string, kind: string, message: RegExp, error?: boolean }> = [
    { name: 'no Authorization header', kind: 'missing', message: /^authentication required: send "Authorization: Bearer <token>"$/, error: false },
    { name: 'Basic credentials', authorization: 'Basic YWxpY2U6aHVudGVyMg==', kind: 'not_bearer', message: /must be "Bearer <token>"/, error: false },
    { name: 'Bearer without a token', authorization: 'Bearer ', kind: 'not_bearer', message: /must be "Bearer <token>"/, error: false },
    { name: 'not a JWT', authorization: 'Bearer abc', kind: 'malformed', message: /malformed/ },
    { name: 'three junk parts', authorization: 'Bearer x.y.z', kind: 'malformed', message: /malformed/ },
    { name: 'alg none, unsigned', authorization: `Bearer ${unsigned(claims())}`, kind: 'unsigned', message: /unsigned; alg "none" is never accepted/ },
    { name: 'alg none with a signature', authorization: `Bearer ${unsigned(claims())}c2ln`, kind: 'algorithm', message: /algorithm is not accepted \(this gateway accepts HS256\)/ },
    { name: 'HS512 with the right secret (algorithm pinned to HS256)', authorization: `Bearer ${signWith(SECRET, 'HS512', claims())}`, kind: 'algorithm', message: /algorithm is not accepted/ },
    { name: 'RS256 (wrong algorithm for the key)', authorization: `Bearer ${signWith(rsa.privateKey, 'RS256', claims())}`, kind: 'algorithm', message: /algorithm is not accepted/ },
    { name: 'bad signature (another secret)', authorization: `Bearer ${hs256(claims(), 'another-secret-0123456789abcdef0123456789')}`, kind: 'signature', message: /bad signature/ },
    { name: 'tampered payload', authorization: `Bearer ${vh}.${b64url(claims({ sub: 'mallory' }))}.${valid.split('.')[2] as string}`, kind: 'signature', message: /bad signature/ },
    { name: 'expired', authorization: `Bearer ${hs256(claims({ exp: now() - 10 }))}`, kind: 'expired', message: /has expired/ },
    { name: 'not yet valid (nbf)', authorization: `Bearer ${hs256(claims({ nbf: now() + 600 }))}`, kind: 'inactive', message: /not valid yet \(nbf is in the future\)/ },
    { name: 'missing exp', authorization: `Bearer ${hs256(claims({ exp: undefined }))}`, kind: 'missing_claim', message: /the exp claim is required/ },
    { name: 'exp not a number', authorization: `Bearer ${forgeHs256(claims({ exp: String(now() + 600) }))}`, kind: 'claim', message: /the exp claim must be a number/ },
    { name: 'missing sub', authorization: `Bearer ${hs256(claims({ sub: undefined }))}`, kind: 'missing_claim', message: /the sub claim is required/ },
    { name: 'empty sub', authorization: `Bearer ${hs256(claims({ sub: '' }))}`, kind: 'missing_claim', message: /the sub claim must be a non-empty string/ },
    { name: 'sub not a string', authorization: `Bearer ${hs256(claims({ sub: 42 }))}`, kind: 'missing_claim', message: /the sub claim must be a non-empty string/ },
    { name: 'hosts not a list', authorization: `Bearer ${hs256(claims({ hosts: 'prod' }))}`, kind: 'claim', message: /the hosts claim must be an array of host names/ },
    { name: 'scope not a string', authorization: `Bearer ${hs256(claims({ scope: { admin: true } }))}`, kind: 'claim', message: /the scope claim must be a space-separated string/ }
  ]

  for (const c of cases) {
    const headers: Record<string, string> = c.authorization !== undefined ? { authorization: c.authorization } : {}
    const res = await gw.app.inject({ url: '/containers/json', headers })
    t.equal(res.statusCode, 401, `${c.name}: 401`)
    t.match(res.headers['content-type'], /^application\/json/, `${c.name}: JSON`)
    const body = res.json() as { message: string }
    t.same(Object.keys(body), ['message'], `${c.name}: Docker-shaped body`)
    t.match(body.message, c.message, `${c.name}: says which (${body.message})`)
    const challenge = String(res.headers['www-authenticate'])
    if (c.error === false) {
      t.equal(challenge, 'Bearer realm="docker-gateway"', `${c.name}: challenge without an error code (RFC 6750 §3.1)`)
    } else {
      t.match(challenge, /^Bearer realm="docker-gateway", error="invalid_token", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]+"$/, `${c.name}: invalid_token challenge`)
    }
    const token = c.authorization?.replace(/^\S+\s*/, '') ?? ''
    for (const part of token.split('.').filter(p => p.length >= 3)) {
      t.notOk(res.body.includes(part) || challenge.includes(part), `${c.name}: token not echoed`)
    }
    const line = gw.audit.lines().at(-1)
    t.equal(line?.reason, `authentication failed: ${c.kind}`, `${c.name}: audit reason`)
    t.equal(line?.decision, 'deny')
  }
  t.notOk(gw.audit.text.includes(vp) || gw.logs.text.includes(vp), 'no token in any log output')
})

t.test('issuer and audience, when configured, are required and checked', async t => {
  const gw = await startAuthGateway(t, { env: { GATEWAY_JWT_ISSUER: 'https://idp.example', GATEWAY_JWT_AUDIENCE: 'docker-gateway' } })
  const call = async (c: Record<string, unknown>): Promise<{ status: number, message: string }> => {
    const res = await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${hs256(claims(c))}` } })
    return { status: res.statusCode, message: (res.json() as { message: string }).message }
  }
  t.same(await call({ iss: 'https://idp.example', aud: 'docker-gateway' }), { status: 404, message: 'page not found' })
  t.same(await call({ iss: 'https://idp.example', aud: ['other', 'docker-gateway'] }), { status: 404, message: 'page not found' }, 'aud may be a list')
  t.match(await call({ iss: 'https://evil.example', aud: 'docker-gateway' }), { status: 401, message: /issuer \(iss\) is not accepted/ })
  t.match(await call({ aud: 'docker-gateway' }), { status: 401, message: /the iss claim is required/ })
  t.match(await call({ iss: 'https://idp.example', aud: 'other' }), { status: 401, message: /audience \(aud\) is not accepted/ })
  t.match(await call({ iss: 'https://idp.example' }), { status: 401, message: /the aud claim is required/ })
})

t.test('the health probes answer without credentials, and only they', async t => {
  const gw = await startAuthGateway(t)
  t.equal((await gw.app.inject({ url: '/healthz' })).statusCode, 200)
  t.equal((await gw.app.inject({ method: 'HEAD', url: '/healthz' })).statusCode, 200)
  t.equal((await gw.app.inject({ method: 'POST', url: '/healthz' })).statusCode, 401, 'POST /healthz is not a probe')
  for (const url of ['/_ping', '/version', '/containers/json', '/healthz/', '//healthz', '/v1.41/healthz', '/nonexistent', '/hosts']) {
    t.equal((await gw.app.inject({ url })).statusCode, 401, `${url} needs credentials`)
  }
})
