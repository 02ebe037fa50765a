// Which algorithms each kind of key may verify, reading public keys (PEM and
// JWK), choosing exactly one key source, and the JWKS URL rule.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { algorithmsForKey, parseJwksUrl, readPublicKey, resolveKeySource } from '../../../src/auth/keys'
import { loadConfig } from '../../../src/config/load'
import { writePem } from '../../helpers/auth/pki'

t.test('algorithms per key type', async t => {
  const cases: Array<[string, ReturnType<typeof generateKeyPairSync>['publicKey'], string[]]> = [
    ['rsa', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']],
    ['ec P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, ['ES256']],
    ['ec P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, ['ES384']],
    ['ec P-521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey, ['ES512']],
    ['ed25519', generateKeyPairSync('ed25519').publicKey, ['EdDSA']]
  ]
  for (const [name, key, want] of cases) t.same(algorithmsForKey(key), want, name)
  t.throws(() => algorithmsForKey(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey), /unsupported EC curve/)
})

t.test('readPublicKey: PEM and JWK files; a private key file is refused', async t => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const files = writePem({
    'pub.pem': publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    'pub.jwk': JSON.stringify(publicKey.export({ format: 'jwk' })),
    'priv.pem': privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    'junk.pem': 'not a key'
  })
  t.same(readPublicKey(files['pub.pem'] as string).algorithms, ['ES256'])
  t.same(readPublicKey(files['pub.jwk'] as string).algorithms, ['ES256'])
  t.throws(() => readPublicKey(files['priv.pem'] as string), /holds a private key/, 'the signing key never sits on the gateway')
  t.throws(() => readPublicKey(files['junk.pem'] as string), /holds no usable public key/)
  t.throws(() => readPublicKey('/nonexistent/key.pem'), /cannot read/)
})

t.test('exactly one key source', async t => {
  const base = { GATEWAY_UPSTREAM: 'tcp://127.0.0.1:9' }
  const secret = 'x'.repeat(32)
  t.equal(resolveKeySource(loadConfig({ ...base, GATEWAY_JWT_SECRET: secret })).kind, 'secret')
  t.equal(resolveKeySource(loadConfig(base), secret).kind, 'secret', 'the data-folder secret as fallback')
  t.equal(resolveKeySource(loadConfig({ ...base, GATEWAY_JWKS_URL: 'https://idp.example/jwks.json' }), secret).kind, 'jwks', 'a configured key wins over the fallback')
  t.throws(() => resolveKeySource(loadConfig({ ...base, GATEWAY_JWT_SECRET: secret, GATEWAY_JWKS_URL: 'https://idp.example/jwks.json' })), /only one of/)
  t.throws(() => resolveKeySource(loadConfig(base)), /no JWT key configured/)
  t.throws(() => resolveKeySource(loadConfig(base), 'short'), /at least 32 bytes/)
  t.throws(() => loadConfig({ ...base, GATEWAY_JWT_SECRET: 'short' }), /jwtSecret \(from GATEWAY_JWT_SECRET\)/)
})

t.test('JWKS URL: https, or http on loopback only', async t => {
  t.equal(parseJwksUrl('https://idp.example/.well-known/jwks.json').origin, 'https://idp.example')
  t.equal(parseJwksUrl('http://127.0.0.1:8080/jwks').origin, 'http://127.0.0.1:8080')
  t.equal(parseJwksUrl('http://localhost/jwks').hostname, 'localhost')
  t.throws(() => parseJwksUrl('http://idp.example/jwks'), /must be an https/)
  t.throws(() => parseJwksUrl('https://user:pw@idp.example/jwks'), /credentials/)
  t.throws(() => parseJwksUrl('nope'), /not a URL/)
})
