// `docker-gateway token`: prints one HS256 token (and nothing else on
// stdout) signed with the configured or data-folder secret, with the
// requested sub, scopes, hosts and lifetime and a random jti (printed on
// stderr, to revoke it by); refuses what it cannot honour.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createVerifier } from 'fast-jwt'
import { main, type Io } from '../../../src/cli'
import { runCli } from '../../helpers/auth/cli'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { SECRET } from '../../helpers/auth/tokens'

async function token (args: string[], env: Record<string, string>): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const io: Io = { out: (s) => { out += s }, err: (s) => { err += s } }
  const code = await main(['token', ...args], env, io)
  return { code, out, err }
}

const base = { GATEWAY_UPSTREAM: 'tcp://127.0.0.1:9' }

t.test('signs with GATEWAY_JWT_SECRET what was asked', async t => {
  const r = await token(['--sub', 'alice', '--scope', 'containers:read containers:write', '--ttl', '8h', '--hosts', 'prod-1, prod-2'], { ...base, GATEWAY_JWT_SECRET: SECRET })
  t.equal(r.code, 0)
  t.match(r.out, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'stdout is the token and a newline')
  const payload = createVerifier({ key: SECRET, algorithms: ['HS256'] })(r.out.trim()) as Record<string, any>
  t.match(payload.jti, /^[\w-]{22}$/, 'a random 128-bit jti')
  t.equal(r.err, `docker-gateway: jti ${payload.jti as string} (expires ${new Date(payload.exp * 1000).toISOString()}; revoke with: docker-gateway token revoke ${payload.jti as string})\n`, 'the jti on stderr')
  t.equal(payload.sub, 'alice')
  t.equal(payload.scope, 'containers:read containers:write')
  t.same(payload.hosts, ['prod-1', 'prod-2'])
  t.ok(Math.abs(payload.exp - (Math.floor(Date.now() / 1000) + 8 * 3600)) <= 5, 'exp is 8 h from now')

  const gw = await startAuthGateway(t)
  const res = await gw.app.inject({ url: '/networks', headers: { authorization: `Bearer ${r.out.trim()}` } })
  t.equal(res.statusCode, 404, 'the gateway accepts it')
})

t.test('the image scopes are known scopes', async t => {
  const r = await token(['--sub', 'puller', '--scope', 'images:read images:pull'], { ...base, GATEWAY_JWT_SECRET: SECRET })
  t.equal(r.code, 0, r.err)
  const payload = createVerifier({ key: SECRET, algorithms: ['HS256'] })(r.out.trim()) as Record<string, any>
  t.equal(payload.scope, 'images:read images:pull')
  const gw = await startAuthGateway(t)
  const res = await gw.app.inject({ url: '/images/json', headers: { authorization: `Bearer ${r.out.trim()}` } })
  // No daemon behind this gateway: past authentication and the scope check, the call fails upstream.
  t.equal(res.statusCode, 502, res.body)
  const help = await token(['--help'], base)
  t.match(help.out, 'Scopes: containers:read containers:write containers:export containers:exec images:read images:pull admin')
})

t.test('signs with the data-folder secret, with the configured iss and aud', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'dgw-token-'))
  writeFileSync(join(dir, 'jwt-secret'), `${SECRET}\n`, { mode: 0o600 })
  const r = await token(['--sub', 'ci', '--scope', 'admin', '--ttl', '30m'], { ...base, GATEWAY_DATA_DIR: dir, GATEWAY_JWT_ISSUER: 'docker-gateway', GATEWAY_JWT_AUDIENCE: 'ops' })
  t.equal(r.code, 0, r.err)
  const payload = createVerifier({ key: SECRET, algorithms: ['HS256'] })(r.out.trim()) as Record<string, any>
  t.match(payload, { sub: 'ci', scope: 'admin', iss: 'docker-gateway', aud: 'ops' })
  t.equal(payload.hosts, undefined, 'no hosts claim: every host')
})

t.test('refuses what it cannot honour', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'dgw-token-'))
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['unknown scope', ['--sub', 'a', '--scope', 'containers:read containers:wrote'], { GATEWAY_JWT_SECRET: SECRET }, /unknown scope containers:wrote/],
    ['no sub', ['--scope', 'admin'], { GATEWAY_JWT_SECRET: SECRET }, /--sub NAME is required/],
    ['no scope', ['--sub', 'a'], { GATEWAY_JWT_SECRET: SECRET }, /--scope "SCOPE \.\.\." is required/],
    ['bad ttl', ['--sub', 'a', '--scope', 'admin', '--ttl', 'forever'], { GATEWAY_JWT_SECRET: SECRET }, /--ttl forever is not a duration/],
    ['ttl too long', ['--sub', 'a', '--scope', 'admin', '--ttl', '400d'], { GATEWAY_JWT_SECRET: SECRET }, /longer than 366 days/],
    ['unknown option', ['--sub', 'a', '--scope', 'admin', '--forever'], { GATEWAY_JWT_SECRET: SECRET }, /Unknown option '--forever'/],
    ['no secret anywhere', ['--sub', 'a', '--scope', 'admin'], { GATEWAY_DATA_DIR: dir }, /no secret: set GATEWAY_JWT_SECRET, or run `docker-gateway start` once/],
    ['an identity provider signs', ['--sub', 'a', '--scope', 'admin'], { GATEWAY_JWKS_URL: 'https://idp.example/jwks.json' }, /tokens come from that provider/]
  ]
  for (const [name, args, env, message] of cases) {
    const r = await token(args, { ...base, ...env })
    t.equal(r.code, 2, `${name}: exit 2`)
    t.equal(r.out, '', `${name}: nothing on stdout`)
    t.match(r.err, message, `${name}: ${r.err.trim()}`)
  }
})

t.test('the command itself, as a process', async t => {
  const cli = runCli(['token', '--sub', 'ops', '--scope', 'containers:read', '--ttl', '1h'], { ...base, GATEWAY_JWT_SECRET: SECRET })
  t.equal(await cli.exited, 0, cli.stderr())
  const payload = createVerifier({ key: SECRET, algorithms: ['HS256'] })(cli.stdout().trim()) as Record<string, any>
  t.match(payload, { sub: 'ops', scope: 'containers:read' })
  t.match(cli.stderr(), `jti ${payload.jti as string} `)
})

t.test('every token gets a jti of its own', async t => {
  const env = { ...base, GATEWAY_JWT_SECRET: SECRET }
  const verify = createVerifier({ key: SECRET, algorithms: ['HS256'] })
  const jtis = new Set<string>()
  for (let i = 0; i < 20; i++) jtis.add((verify((await token(['--sub', 'a', '--scope', 'admin'], env)).out.trim()) as { jti: string }).jti)
  t.equal(jtis.size, 20)
})
