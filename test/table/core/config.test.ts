import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, defaultUpstream, ConfigError } from '../../../src/config/load'
import { parseUpstream, UpstreamUrlError } from '../../../src/upstream/target'

const dir = mkdtempSync(join(tmpdir(), 'dgw-config-'))
const file = (name: string, text: string): string => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

t.test('embedded defaults', async t => {
  const c = loadConfig({}, () => false)
  t.equal(c.listen, '0.0.0.0:8443')
  t.equal(c.tls, 'on')
  t.equal(c.bodyLimit, 1024 * 1024)
  t.equal(c.upstream, 'tcp://127.0.0.1:2375')
  t.equal(loadConfig({}, () => true).upstream, 'unix:///var/run/docker.sock')
  t.equal(defaultUpstream(() => true), 'unix:///var/run/docker.sock')
})

t.test('environment wins over the file; strings are coerced', async t => {
  const f = file('a.yaml', 'listen: 127.0.0.1:9000\nupstream: tcp://127.0.0.1:2375\nbodyLimit: 2048\nupstreamTimeouts:\n  headers: 1000\n')
  const c = loadConfig({ GATEWAY_CONFIG: f, GATEWAY_LISTEN: '127.0.0.1:9100', GATEWAY_UPSTREAM_CONNECT_TIMEOUT: '250' })
  t.equal(c.listen, '127.0.0.1:9100')
  t.equal(c.bodyLimit, 2048)
  t.same(c.upstreamTimeouts, { connect: 250, headers: 1000, body: 300000 })
})

t.test('JSON files are read too', async t => {
  const f = file('b.json', JSON.stringify({ tls: 'off', upstream: 'unix:///run/docker.sock' }))
  t.equal(loadConfig({ GATEWAY_CONFIG: f }).tls, 'off')
})

const bad: Array<[string, Record<string, string>, RegExp]> = [
  ['unknown key in the file', { GATEWAY_CONFIG: 'listn: 1.2.3.4:1\n' }, /invalid configuration: listn .*unknown key/],
  ['bad TLS mode from env', { GATEWAY_TLS: 'maybe' }, /invalid configuration: tls \(from GATEWAY_TLS\)/],
  ['non-numeric body limit', { GATEWAY_BODY_LIMIT: 'big' }, /bodyLimit \(from GATEWAY_BODY_LIMIT\)/],
  ['listen without a port', { GATEWAY_LISTEN: 'localhost' }, /listen \(from GATEWAY_LISTEN\)/],
  ['non-canonical version bound', { GATEWAY_API_VERSION_MIN: '01.24' }, /apiVersionMin/],
  ['nested unknown key', { GATEWAY_CONFIG: 'upstreamTimeouts:\n  read: 5\n' }, /upstreamTimeouts\.read/],
  ['file that is a list', { GATEWAY_CONFIG: '- a\n- b\n' }, /must hold a mapping/],
  ['file that is not YAML', { GATEWAY_CONFIG: 'a: [1, 2\n' }, /not valid YAML or JSON/]
]
for (const [name, env, message] of bad) {
  t.test(name, async t => {
    const e = { ...env }
    if (e.GATEWAY_CONFIG !== undefined) e.GATEWAY_CONFIG = file(`${name.replace(/\W/g, '_')}.yaml`, e.GATEWAY_CONFIG)
    t.throws(() => loadConfig(e), message)
    try { loadConfig(e) } catch (err) { t.type(err, ConfigError) }
  })
}

t.test('a missing config file is a clear error', async t => {
  t.throws(() => loadConfig({ GATEWAY_CONFIG: join(dir, 'nope.yaml') }), /cannot read config file/)
})

t.test('upstream URL forms', async t => {
  t.match(parseUpstream('tcp://127.0.0.1:2375'), { origin: 'http://127.0.0.1:2375' })
  t.match(parseUpstream('http://docker.internal:2375'), { origin: 'http://docker.internal:2375' })
  t.match(parseUpstream('unix:///var/run/docker.sock'), { origin: 'http://localhost', socketPath: '/var/run/docker.sock' })
  const https = parseUpstream('https://docker.internal:2376')
  t.match(https, { origin: 'https://docker.internal:2376', tls: { servername: 'docker.internal', rejectUnauthorized: true } })
  for (const bad of ['ftp://x:1', 'tcp://nohost', 'tcp://h:1/path', 'unix://', 'not a url']) {
    t.throws(() => parseUpstream(bad), UpstreamUrlError, bad)
  }
})

t.test('the JWT secret can come from a file (compose/Docker secrets)', async t => {
  const secret = file('jwt-secret', 'a'.repeat(40) + '\n')
  t.equal(loadConfig({ GATEWAY_JWT_SECRET_FILE: secret }).jwtSecret, 'a'.repeat(40), 'read and trimmed')
  t.throws(() => loadConfig({ GATEWAY_JWT_SECRET_FILE: file('short', 'abc') }), /shorter than 32/)
  t.throws(() => loadConfig({ GATEWAY_JWT_SECRET_FILE: join(dir, 'missing') }), /cannot read/)
  t.throws(() => loadConfig({ GATEWAY_JWT_SECRET_FILE: secret, GATEWAY_JWT_SECRET: 'b'.repeat(40) }), /not both/)
})

t.test('limits: safe defaults, each settable from the environment', async t => {
  const d = loadConfig({}, () => false).limits
  t.equal(d.maxConnections, undefined, 'total cap unset: derived from the open-file limit at start')
  t.equal(d.maxConnectionsPerAddress, 64)
  t.equal(d.headersTimeoutMs, 10_000)
  t.equal(d.requestTimeoutMs, 60_000)
  t.equal(d.keepAliveTimeoutMs, 65_000)
  t.equal(d.streamsPerPrincipal, 32)
  t.equal(d.connectionsPerPrincipal, 64)
  t.equal(d.streamKeepAliveMs, 60_000)
  t.equal(d.streamIdleTimeoutMs, 3_600_000)
  t.equal(d.logIntervalMs, 60_000)
  t.equal(d.archiveUploadBytes, 1024 ** 3, 'docker cp uploads: 1 GiB')
  const c = loadConfig({
    GATEWAY_MAX_CONNECTIONS: '100',
    GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '5',
    GATEWAY_HEADERS_TIMEOUT: '2000',
    GATEWAY_REQUEST_TIMEOUT: '0',
    GATEWAY_KEEP_ALIVE_TIMEOUT: '5000',
    GATEWAY_STREAMS_PER_PRINCIPAL: '3',
    GATEWAY_CONNECTIONS_PER_PRINCIPAL: '7',
    GATEWAY_STREAM_KEEPALIVE: '10000',
    GATEWAY_STREAM_IDLE_TIMEOUT: '0',
    GATEWAY_ARCHIVE_UPLOAD_BYTES: '65536'
  }, () => false).limits
  t.same(c, { maxConnections: 100, maxConnectionsPerAddress: 5, headersTimeoutMs: 2000, requestTimeoutMs: 0, keepAliveTimeoutMs: 5000, connectionsPerPrincipal: 7, streamsPerPrincipal: 3, streamKeepAliveMs: 10_000, streamIdleTimeoutMs: 0, archiveUploadBytes: 65536, logIntervalMs: 60_000 })
  t.throws(() => loadConfig({ GATEWAY_STREAMS_PER_PRINCIPAL: '0' }), /limits\.streamsPerPrincipal \(from GATEWAY_STREAMS_PER_PRINCIPAL\)/, 'a cap of 0 streams is refused, not "unlimited"')
  t.throws(() => loadConfig({ GATEWAY_CONNECTIONS_PER_PRINCIPAL: '0' }), /limits\.connectionsPerPrincipal \(from GATEWAY_CONNECTIONS_PER_PRINCIPAL\)/, 'a cap of 0 connections is refused, not "unlimited"')
  t.throws(() => loadConfig({ GATEWAY_HEADERS_TIMEOUT: '100' }), /limits\.headersTimeoutMs/, 'a header deadline under 500 ms is refused')
  t.throws(() => loadConfig({ GATEWAY_HEADERS_TIMEOUT: '20000', GATEWAY_REQUEST_TIMEOUT: '10000' }), /headersTimeoutMs \(20000\) is longer than limits\.requestTimeoutMs \(10000\)/)
  t.throws(() => loadConfig({ GATEWAY_CONFIG: file('limits-typo.yaml', 'limits:\n  maxConections: 5\n') }), /limits\.maxConections .*unknown key/)
})
