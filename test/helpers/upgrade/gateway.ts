/**
 * The real gateway (buildApp) in front of the run's daemon, for the upgrade
 * tests that drive real clients (docker CLI, docker-py, dockerode, WebSocket)
 * through attach and exec start. It replaces the stand-in app these tests
 * used to run against (issue 11): every request goes through authentication,
 * the allow-list, policy and ownership, like a user's.
 *
 * What the stand-in recorded per hijack (route, status, bytes), the gateway's
 * own audit lines now tell: they are captured in memory (buildApp's
 * auditStream), one per request, written when the request or stream ends.
 *
 * Lives under fixtures/ so tap does not run it as a test file.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { buildApp } from '../../../src/app'
import { loadConfig } from '../../../src/config/load'
import { daemon } from '../env'
import { mintToken, TEST_SECRET } from '../gateway'

const run = promisify(execFile)

/** Every scope but admin: the tests act as an ordinary principal. */
export const USER_SCOPES = 'containers:read containers:write containers:export containers:exec'

export interface AuditLine {
  principal?: string
  method: string
  route?: string
  status: number
  bytesIn: number
  bytesOut: number
  decision: string
  reason?: string
}

export interface UpgradeGateway {
  app: FastifyInstance
  port: number
  /** tcp://127.0.0.1:PORT for DOCKER_HOST */
  host: string
  /** http(s)://127.0.0.1:PORT */
  url: string
  /** The principal's bearer token. */
  token: string
  /** Authorization header for undici, dockerode (`headers`) and WebSocket. */
  headers: Record<string, string>
  /** A DOCKER_CONFIG directory whose config.json sends the token (docker CLI and docker-py read it). */
  configDir: string
  /** Audit lines so far. */
  audit: AuditLine[]
  /** Audit lines of the hijack routes (attach, attach/ws, exec start), once there are at least `n`. */
  settled: (n: number) => Promise<AuditLine[]>
  /** Create (and start, unless told not to) a container as the principal, through the gateway. */
  create: (json: Record<string, unknown>, opts?: { start?: boolean }) => Promise<string>
}

export interface TlsFiles {
  dir: string
  ca: string
  cert: string
  key: string
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** A CA, and a server certificate for 127.0.0.1 signed by it (what DOCKER_CERT_PATH wants as ca.pem). */
export async function makeTls (t: Teardown): Promise<TlsFiles> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dgw-upgrade-tls-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const f = (name: string): string => path.join(dir, name)
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=dgw test CA',
    '-keyout', f('ca-key.pem'), '-out', f('ca.pem')])
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1',
    '-keyout', f('server-key.pem'), '-out', f('server.csr')])
  await writeFile(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'),
    '-CAcreateserial', '-days', '1', '-extfile', f('ext.cnf'), '-out', f('server-cert.pem')])
  return { dir, ca: f('ca.pem'), cert: f('server-cert.pem'), key: f('server-key.pem') }
}

const HIJACK_ROUTES = new Set(['POST /containers/:id/attach', 'GET /containers/:id/attach/ws', 'POST /exec/:exec/start'])

export async function startUpgradeGateway (t: Teardown, opts: { tls?: TlsFiles, sub?: string } = {}): Promise<UpgradeGateway> {
  const env: Record<string, string> = { GATEWAY_TLS: 'off', GATEWAY_LOG_LEVEL: 'silent', GATEWAY_LISTEN: '127.0.0.1:0', GATEWAY_UPSTREAM: daemon().url }
  const config = loadConfig(env)
  // buildApp serves HTTPS with the material it is given (the CLI loads it from the config).
  const https = opts.tls !== undefined ? { key: await readFile(opts.tls.key), cert: await readFile(opts.tls.cert) } : undefined
  const audit: AuditLine[] = []
  const waiters: Array<() => void> = []
  const auditStream = {
    write (line: string): void {
      try { audit.push(JSON.parse(line) as AuditLine) } catch {}
      for (const w of waiters.splice(0)) w()
    }
  }
  const app = await buildApp({ config, jwtSecret: TEST_SECRET, auditStream, ...(https !== undefined ? { https } : {}) })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const url = `${opts.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${port}`
  const token = mintToken(TEST_SECRET, { sub: opts.sub ?? 'upgrade-tests', scope: USER_SCOPES })
  const headers = { authorization: `Bearer ${token}` }

  const configDir = await mkdtemp(path.join(tmpdir(), 'dgw-upgrade-config-'))
  t.teardown(async () => { await rm(configDir, { recursive: true, force: true }) })
  await writeFile(path.join(configDir, 'config.json'), JSON.stringify({ HttpHeaders: { Authorization: `Bearer ${token}` } }), { mode: 0o600 })

  const settled = async (n: number): Promise<AuditLine[]> => {
    const hijacks = (): AuditLine[] => audit.filter(l => l.route !== undefined && HIJACK_ROUTES.has(l.route))
    const deadline = Date.now() + 30_000
    while (hijacks().length < n) {
      if (Date.now() > deadline) throw new Error(`settled(${n}): ${hijacks().length} hijack audit lines after 30 s`)
      await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 200) })
    }
    return hijacks()
  }

  const create = async (json: Record<string, unknown>, o: { start?: boolean } = {}): Promise<string> => {
    if (opts.tls !== undefined) throw new Error('create() speaks plain HTTP; create the container with docker() and a CLI instead')
    const res = await request(`${url}/containers/create`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(json) })
    const text = await res.body.text()
    if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode} ${text}`)
    const id = (JSON.parse(text) as { Id: string }).Id
    if (o.start !== false) {
      const started = await request(`${url}/containers/${id}/start`, { method: 'POST', headers })
      await started.body.dump()
      if (started.statusCode !== 204) throw new Error(`start answered ${started.statusCode}`)
    }
    return id
  }

  return { app, port, host: `tcp://127.0.0.1:${port}`, url, token, headers, configDir, audit, settled, create }
}
