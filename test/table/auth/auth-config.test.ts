// The auth-related configuration: environment names, file keys, defaults,
// errors naming the bad key, TLS settings that only work together, and the
// durations operators write.
import t from 'tap'
import { loadConfig, ENV_KEYS } from '../../../src/config/load'
import { checkTlsConfig } from '../../../src/tls/material'
import { formatDuration, parseDuration } from '../../../src/auth/duration'
import { challengeHeader, insufficientScopeHeader, invalidToken } from '../../../src/auth/token-errors'
import { writePem } from '../../helpers/auth/pki'

const base = { GATEWAY_UPSTREAM: 'tcp://127.0.0.1:9' }

t.test('environment names and defaults', async t => {
  const env: Record<string, [string, string]> = {
    GATEWAY_JWT_SECRET: ['jwtSecret', 'x'.repeat(32)],
    GATEWAY_JWT_PUBLIC_KEY: ['jwtPublicKey', '/etc/idp.pem'],
    GATEWAY_JWKS_URL: ['jwksUrl', 'https://idp.example/jwks.json'],
    GATEWAY_JWT_ISSUER: ['jwtIssuer', 'https://idp.example'],
    GATEWAY_JWT_AUDIENCE: ['jwtAudience', 'docker-gateway'],
    GATEWAY_TOKEN_CACHE_SIZE: ['tokenCacheSize', '500'],
    GATEWAY_RATE_LIMIT_MAX: ['rateLimit.max', '60'],
    GATEWAY_RATE_LIMIT_WINDOW: ['rateLimit.timeWindow', '30 seconds'],
    GATEWAY_REDIS_URL: ['redisUrl', 'redis://127.0.0.1:6379'],
    GATEWAY_AUDIT_FILE: ['audit.destination', '/var/log/docker-gateway/audit.log']
  }
  for (const [name, [key]] of Object.entries(env)) t.equal(ENV_KEYS[name], key, `${name} -> ${key}`)
  const config = loadConfig({ ...base, GATEWAY_RATE_LIMIT_MAX: '60', GATEWAY_RATE_LIMIT_WINDOW: '30 seconds', GATEWAY_TOKEN_CACHE_SIZE: '500', GATEWAY_AUDIT_FILE: '/tmp/a.log' })
  t.same(config.rateLimit, { max: 60, timeWindow: '30 seconds' })
  t.equal(config.tokenCacheSize, 500)
  t.same(config.audit, { destination: '/tmp/a.log' })

  const defaults = loadConfig(base)
  t.same(defaults.rateLimit, { max: 1000, timeWindow: '1m' }, 'default: 1000 requests a minute per principal')
  t.equal(defaults.tokenCacheSize, 10000)
  t.equal(defaults.tls, 'on', 'HTTPS by default')
  t.same(defaults.audit, {}, 'audit lines go with the log by default')
})

t.test('the config file mirrors the names; errors name the key', async t => {
  const files = writePem({
    'ok.yaml': 'jwtIssuer: https://idp.example\nrateLimit:\n  max: 5\n  timeWindow: 10s\nclientCertificates:\n  "CN=billing-svc":\n    scope: containers:read\n    hosts: [prod-1]\n',
    'badkey.yaml': 'clientCertificates:\n  "O=corp":\n    scope: admin\n',
    'badgrant.yaml': 'clientCertificates:\n  "CN=a":\n    scopes: admin\n'
  })
  const config = loadConfig({ ...base, GATEWAY_CONFIG: files['ok.yaml'] as string })
  t.equal(config.jwtIssuer, 'https://idp.example')
  t.same(config.rateLimit, { max: 5, timeWindow: '10s' })
  t.same(config.clientCertificates, { 'CN=billing-svc': { scope: 'containers:read', hosts: ['prod-1'] } })
  t.throws(() => loadConfig({ ...base, GATEWAY_CONFIG: files['badkey.yaml'] as string }), /clientCertificates/, 'keys are CN=, DNS: or URI:')
  t.throws(() => loadConfig({ ...base, GATEWAY_CONFIG: files['badgrant.yaml'] as string }), /clientCertificates\.CN=a/, 'a typo in a grant is an error')
  t.throws(() => loadConfig({ ...base, GATEWAY_RATE_LIMIT_WINDOW: 'soon' }), /rateLimit\.timeWindow \(from GATEWAY_RATE_LIMIT_WINDOW\)/)
  t.throws(() => loadConfig({ ...base, GATEWAY_RATE_LIMIT_MAX: '-1' }), /rateLimit\.max/)
  t.throws(() => loadConfig({ ...base, GATEWAY_REDIS_URL: 'http://127.0.0.1:6379' }), /redisUrl/)
  t.throws(() => loadConfig({ ...base, GATEWAY_JWKS_URL: 'ftp://idp' }), /jwksUrl/)
})

t.test('TLS settings that only work together', async t => {
  const ok = (env: Record<string, string>): void => { checkTlsConfig(loadConfig({ ...base, ...env })) }
  t.doesNotThrow(() => { ok({}) }, 'on with nothing: self-signed')
  t.doesNotThrow(() => { ok({ GATEWAY_TLS_CERT: '/c', GATEWAY_TLS_KEY: '/k' }) })
  t.doesNotThrow(() => { ok({ GATEWAY_TLS_CA: '/ca', GATEWAY_TLS_CLIENT_AUTH: 'require' }) })
  t.throws(() => { ok({ GATEWAY_TLS_CERT: '/c' }) }, /tlsCert and tlsKey go together/)
  t.throws(() => { ok({ GATEWAY_TLS_CLIENT_AUTH: 'require' }) }, /tlsClientAuth needs tlsCa/)
  t.throws(() => { ok({ GATEWAY_TLS: 'off', GATEWAY_TLS_CLIENT_AUTH: 'optional', GATEWAY_TLS_CA: '/ca' }) }, /needs tls on/)
  const files = writePem({ 'c.yaml': 'clientCertificates:\n  "CN=a":\n    scope: admin\n' })
  t.throws(() => { ok({ GATEWAY_CONFIG: files['c.yaml'] as string }) }, /clientCertificates needs tlsClientAuth/)
})

t.test('durations', async t => {
  const cases: Array<[string | number, number | undefined]> = [
    ['8h', 8 * 3_600_000], ['30m', 1_800_000], ['1 minute', 60_000], ['90s', 90_000], ['7d', 604_800_000],
    ['1500ms', 1500], ['1.5h', 5_400_000], ['2 hours', 7_200_000], ['60000', 60_000], [60000, 60_000],
    ['0', undefined], ['soon', undefined], ['-5m', undefined], ['', undefined], ['5 fortnights', undefined]
  ]
  for (const [input, want] of cases) t.equal(parseDuration(input), want, JSON.stringify(input))
  t.equal(parseDuration('3600', 's'), 3_600_000, 'bare numbers in seconds where asked')
  t.equal(formatDuration(60_000), '1m')
  t.equal(formatDuration(86_400_000), '1d')
  t.equal(formatDuration(1500), '1500ms')
})

t.test('challenge headers stay within RFC 6750 characters', async t => {
  t.equal(challengeHeader(invalidToken('claim', 'the "sub" claim \\ is wrong')), 'Bearer realm="docker-gateway", error="invalid_token", error_description="the \'sub\' claim \' is wrong"')
  t.equal(challengeHeader(invalidToken('claim', 'non-ascii: é')), 'Bearer realm="docker-gateway", error="invalid_token", error_description="non-ascii: ?"')
  t.equal(insufficientScopeHeader('containers:write'), 'Bearer realm="docker-gateway", error="insufficient_scope", scope="containers:write"')
})
