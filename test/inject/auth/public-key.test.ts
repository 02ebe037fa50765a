// GATEWAY_JWT_PUBLIC_KEY: tokens of an identity provider, verified with its
// public key, under the algorithms of that key's kind only.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { claims, forgeHs256, signWith } from '../../helpers/auth/tokens'
import { writePem } from '../../helpers/auth/pki'

const PASSED = '/swarm' // authenticated, then not in the allow-list: 404

const kinds: Array<{ name: string, pair: ReturnType<typeof generateKeyPairSync>, alg: string, wrongAlg: string }> = [
  { name: 'RSA', pair: generateKeyPairSync('rsa', { modulusLength: 2048 }), alg: 'RS256', wrongAlg: 'ES256' },
  { name: 'EC P-256', pair: generateKeyPairSync('ec', { namedCurve: 'P-256' }), alg: 'ES256', wrongAlg: 'RS256' },
  { name: 'Ed25519', pair: generateKeyPairSync('ed25519'), alg: 'EdDSA', wrongAlg: 'ES256' }
]

for (const k of kinds) {
  t.test(`${k.name} public key`, async t => {
    const pem = k.pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const files = writePem({ 'idp.pem': pem })
    // No fallback secret: the public key is the only key.
    const gw = await startAuthGateway(t, { env: { GATEWAY_JWT_PUBLIC_KEY: files['idp.pem'] as string }, jwtSecret: null })
    const status = async (token: string): Promise<[number, string]> => {
      const res = await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${token}` } })
      return [res.statusCode, (res.json() as { message: string }).message]
    }
    t.same(await status(signWith(k.pair.privateKey, k.alg, claims())), [404, 'page not found'], `${k.alg} token verifies`)

    const other = k.name === 'RSA' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : k.name === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' })
    t.match(await status(signWith(other.privateKey, k.alg, claims())), [401, /bad signature/], 'another key of the same kind: bad signature')

    // The classic confusion: HMAC "signed" with the public key's PEM text as the secret.
    t.match(await status(forgeHs256(claims(), pem)), [401, /algorithm/], 'HS256 keyed with the public key PEM is refused')

    const wrong = k.wrongAlg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' })
    t.match(await status(signWith(wrong.privateKey, k.wrongAlg, claims())), [401, /algorithm/], `${k.wrongAlg} is not an algorithm of this key`)
    t.match(await status(signWith(k.pair.privateKey, k.alg, claims({ exp: undefined }))), [401, /exp claim is required/])
  })
}

t.test('an RSA key accepts only RS*/PS*: RS512 and PS256 verify', async t => {
  const pair = kinds[0]?.pair as ReturnType<typeof generateKeyPairSync>
  const files = writePem({ 'idp.pem': pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() })
  const gw = await startAuthGateway(t, { env: { GATEWAY_JWT_PUBLIC_KEY: files['idp.pem'] as string }, jwtSecret: null })
  for (const alg of ['RS512', 'PS256']) {
    const res = await gw.app.inject({ url: PASSED, headers: { authorization: `Bearer ${signWith(pair.privateKey, alg, claims())}` } })
    t.equal(res.statusCode, 404, alg)
  }
})
