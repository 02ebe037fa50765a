#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { join } from 'node:path'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import cluster from 'node:cluster'
import { buildApp, type BuildOptions } from './app'
import { runPrimary, WORKER_ROLE_ENV } from './cluster/primary'
import { WorkerLink } from './cluster/worker-link'
import { workerCount } from './cluster/worker-count'
import { ConfigError, loadConfig } from './config/load'
import type { Config } from './config/schema'
import { ensureDataDir, looseMode, readOrCreateSecret, readSecretFile, signToken, SECRET_FILE, TokenRequestError } from './auth/secret'
import { formatDuration, parseDuration } from './auth/duration'
import { hasExpired, looksLikeToken, MAX_TOKEN_TTL_MS, revocationFromToken, revocationOfJti, RevocationRequestError, revokeAnswer } from './auth/revocation'
import { openRevocationStore } from './auth/revocation-store'
import { checkTlsConfig, fingerprint256, httpsServerOptions, readTlsFiles, type TlsFiles } from './tls/material'
import { certificateNames, ensureSelfSigned } from './tls/self-signed'
import { parseTlsNames } from './tls/names'
import { CertificateReloader } from './tls/reload'
import { daemonBannerLine } from './upstream/banner'

/**
 * The `docker-gateway` command.
 *
 *   docker-gateway start
 *   docker-gateway token --sub NAME --scope "containers:read containers:write" [--ttl 8h] [--hosts a,b]
 *   docker-gateway token revoke <jti|token>
 *
 * `start` with nothing configured still starts safe: HTTPS with a
 * self-signed certificate made in the data folder (its SHA-256 fingerprint
 * is printed), and a JWT secret generated there on first start together
 * with one admin token, printed once, as Jupyter prints its token.
 * What the command prints for people goes to stderr (the new token's jti
 * among it); stdout carries the JSON log lines (start), just the token
 * (token) or the stored revocation as JSON (token revoke), so all can be piped.
 */

export interface Io {
  out: (text: string) => void
  err: (text: string) => void
}

const defaultIo: Io = {
  out: (text) => { process.stdout.write(text) },
  err: (text) => { process.stderr.write(text) }
}

/** The first admin token's lifetime: long enough to set things up, short enough to not linger. */
export const ADMIN_TOKEN_TTL_MS = 24 * 3_600_000
/** Longest `token --ttl`; also how long a revocation by bare jti is kept (src/auth/revocation.ts). */
export { MAX_TOKEN_TTL_MS }
/** After SIGTERM/SIGINT: short calls have this long to finish before open streams are ended. */
export const STREAM_GRACE_MS = 5000
/** ...and the process exits at the latest this long after the signal. */
export const SHUTDOWN_DEADLINE_MS = 15_000

/**
 * Why the signing secret must not sit in the environment (issue 10, what to build 2): a
 * process's environment is readable in /proc/<pid>/environ by its user, by root and by
 * anything sharing its PID namespace, stays there for the life of the process (deleting it
 * from process.env does not clear that copy), and leaks through any bug that lists processes
 * with their environment (finding 1: `top` with `ps e` printed every host process's). With the
 * secret anyone can sign an admin token.
 */
export const SECRET_IN_ENV_WARNING = 'GATEWAY_JWT_SECRET is set in the environment: anything that can read this process\'s ' +
  '/proc/<pid>/environ (its user, root, a process in the same PID namespace, or a bug that lists processes with their ' +
  'environment, as docker top with ps e did) reads the secret that signs every token, and can sign an admin token. ' +
  'Put the secret in a file readable only by the gateway (a compose or Docker secret under /run/secrets) and set ' +
  'GATEWAY_JWT_SECRET_FILE to its path instead.'

const USAGE = `Usage:
  docker-gateway start
      Run the gateway (configuration: GATEWAY_* environment variables and GATEWAY_CONFIG file).
  docker-gateway token --sub NAME --scope "SCOPE ..." [--ttl 8h] [--hosts a,b]
      Print an HS256 bearer token signed with the configured or data-folder secret
      (its jti, to revoke it by, is printed on stderr).
      Scopes: containers:read containers:write containers:export containers:exec images:read images:pull admin
  docker-gateway token revoke <jti|token>
      Refuse a token from now on, on every gateway sharing this configuration's
      Redis (redisUrl) or data folder. A whole token is revoked until its exp; a
      bare jti for 366 days, the longest a token of this command lives.
`

export function parseListen (listen: string): { host: string, port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):([0-9]{1,5})$/.exec(listen)
  if (m === null) throw new ConfigError(`invalid configuration: listen: expected host:port, got ${listen}`)
  const host = (m[1] as string).replace(/^\[(.*)\]$/, '$1')
  return { host, port: Number(m[2]) }
}

function hasConfiguredKey (config: Config): boolean {
  return config.jwtSecret !== undefined || config.jwtPublicKey !== undefined || config.jwksUrl !== undefined
}

export interface Started {
  app: FastifyInstance
  /** https://host:port or http://host:port as a client on this machine reaches it. */
  url: string
  fingerprint?: string
  /** Printed on first start only. */
  adminToken?: string
  reloader?: CertificateReloader
  close: () => Promise<void>
}

interface Prepared {
  jwtSecret?: string
  adminToken?: string
  tlsFiles?: TlsFiles
  https?: ReturnType<typeof httpsServerOptions>
  fingerprint?: string
  lines: string[]
}

/**
 * What a start needs before it serves: the data folder, the JWT secret and the
 * first admin token (made on first start only), the TLS material. A gateway
 * with several workers does this once, in the primary, before forking.
 */
async function prepare (config: Config): Promise<Prepared> {
  checkTlsConfig(config)
  ensureDataDir(config.dataDir)
  const p: Prepared = { lines: [] }
  const { lines } = p
  if (!hasConfiguredKey(config)) {
    const s = readOrCreateSecret(config.dataDir)
    p.jwtSecret = s.secret
    if (s.created) {
      p.adminToken = signToken(s.secret, { sub: 'admin', scope: 'admin', ttlMs: ADMIN_TOKEN_TTL_MS, issuer: config.jwtIssuer, audience: config.jwtAudience }).token
      lines.push(`JWT secret generated: ${s.file} (mode 0600; keep it private, it signs every token)`)
    } else {
      const loose = looseMode(s.file)
      if (loose !== undefined) lines.push(`WARNING: ${s.file} has mode ${loose}; run: chmod 600 ${s.file}`)
      lines.push(`JWT secret: ${s.file}`)
    }
  }
  if (config.tls === 'on') {
    let tlsFiles: TlsFiles
    if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
      tlsFiles = { cert: config.tlsCert, key: config.tlsKey }
      lines.push(`TLS certificate: ${config.tlsCert}`)
    } else {
      const made = await ensureSelfSigned(config.dataDir, { names: certificateNames({ extra: parseTlsNames(config.tlsNames) }) })
      tlsFiles = { cert: made.certFile, key: made.keyFile }
      lines.push(`TLS certificate: ${made.certFile} (self-signed, ${made.created ? 'created now' : 'existing'}, valid until ${made.notAfter})`)
    }
    if (config.tlsCa !== undefined) tlsFiles.ca = config.tlsCa
    const material = readTlsFiles(tlsFiles)
    p.tlsFiles = tlsFiles
    p.https = httpsServerOptions(material, config.tlsClientAuth)
    p.fingerprint = fingerprint256(material.cert)
    lines.push(`TLS SHA-256 fingerprint: ${p.fingerprint}`)
    if (config.tlsClientAuth !== 'none') lines.push(`client certificates: ${config.tlsClientAuth} (CA ${config.tlsCa as string})`)
  } else {
    lines.push('WARNING: TLS is off (GATEWAY_TLS=off): tokens cross the network in clear text')
  }
  return p
}

function adminTokenLines (adminToken: string): string[] {
  return [`admin token (sub admin, scope admin, expires in ${formatDuration(ADMIN_TOKEN_TTL_MS)}; shown once):`, `    ${adminToken}`]
}

/** Everything `start` does except installing the signal handlers (tests call this in-process). */
export async function start (env: NodeJS.ProcessEnv, io: Io, worker?: BuildOptions['cluster']): Promise<Started> {
  const config = loadConfig(env)
  const { host, port } = parseListen(config.listen)
  const { jwtSecret, adminToken, tlsFiles, https, fingerprint, lines } = await prepare(config)
  const preparedLines = [...lines]

  const app = await buildApp({ config, ...(jwtSecret !== undefined ? { jwtSecret } : {}), ...(https !== undefined ? { https } : {}), ...(worker !== undefined ? { cluster: worker } : {}) })
  // Once per gateway: with several workers, the first (the health leader) says it.
  if (env.GATEWAY_JWT_SECRET !== undefined && env.GATEWAY_JWT_SECRET !== '' && (worker === undefined || worker.leader)) {
    app.log.warn({ env: 'GATEWAY_JWT_SECRET', instead: 'GATEWAY_JWT_SECRET_FILE' }, SECRET_IN_ENV_WARNING)
    lines.push('WARNING: GATEWAY_JWT_SECRET is in the environment; put the secret in a file and set GATEWAY_JWT_SECRET_FILE instead (see the log)')
  }
  let reloader: CertificateReloader | undefined
  try {
    await app.listen({ host, port })
  } catch (err) {
    await app.close()
    throw err
  }
  const address = app.server.address()
  const boundPort = typeof address === 'object' && address !== null ? address.port : port
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  const url = `${config.tls === 'on' ? 'https' : 'http'}://${shownHost}:${boundPort}`

  if (tlsFiles !== undefined) {
    reloader = new CertificateReloader(app.server as unknown as import('node:tls').Server, tlsFiles, app.log)
    reloader.fingerprint = fingerprint
    reloader.watch()
  }

  lines.unshift(`listening on ${url}`, ...app.dockerHosts.all().map(daemonBannerLine))
  if (adminToken !== undefined) lines.push(...adminTokenLines(adminToken))
  if (jwtSecret !== undefined) lines.push('more tokens: npm run token -- --sub NAME --scope "containers:read containers:write" --ttl 8h')
  const cacert = config.tls === 'on' ? ` --cacert ${tlsFiles?.cert as string}` : ''
  lines.push(`try: curl${cacert} -H "Authorization: Bearer $TOKEN" ${url}/containers/json`)
  // A worker's banner is printed once, by its primary.
  if (worker === undefined) io.err(lines.map(l => `docker-gateway: ${l}\n`).join(''))
  else worker.link.send({ dgw: 'listening', url, banner: lines, prepared: preparedLines })

  const started: Started = {
    app,
    url,
    close: async () => {
      reloader?.close()
      await app.close()
    }
  }
  if (fingerprint !== undefined) started.fingerprint = fingerprint
  if (adminToken !== undefined) started.adminToken = adminToken
  if (reloader !== undefined) started.reloader = reloader
  return started
}

/**
 * `start`: one process, or with `workers` above 1 a primary (src/cluster/primary.ts)
 * in front of that many workers, each running the one-process gateway below.
 */
async function runStart (env: NodeJS.ProcessEnv, io: Io): Promise<void> {
  const role = env[WORKER_ROLE_ENV]
  if (cluster.isWorker && (role === 'leader' || role === 'follower')) {
    await runServing(env, io, new WorkerLink(), role === 'leader')
    return
  }
  const config = loadConfig(env)
  const count = workerCount(config.workers)
  if (count === 1) {
    await runServing(env, io)
    return
  }
  parseListen(config.listen)
  // Once, before any worker: the workers find the secret and certificate made.
  const prepared = await prepare(config)
  await runPrimary({
    count,
    prepared: prepared.lines,
    adminToken: prepared.adminToken !== undefined ? adminTokenLines(prepared.adminToken) : [],
    err: io.err,
    deadlineMs: SHUTDOWN_DEADLINE_MS + 5000,
    env
  })
}

/**
 * The gateway serving, plus SIGHUP (reload certificates and the host list,
 * reopen the audit file) and graceful shutdown. A worker (`link` given) takes
 * both from its primary instead of from signals, and sends its banner there.
 */
async function runServing (env: NodeJS.ProcessEnv, io: Io, link?: WorkerLink, leader = false): Promise<void> {
  const started = await start(env, io, link !== undefined ? { link, leader, id: cluster.worker?.id ?? process.pid } : undefined)
  const { app } = started

  // SIGHUP re-reads what can change without a restart: certificates, the audit file, the host list.
  const onHup = (): void => {
    started.reloader?.reload()
    app.audit.reopen()
    void app.reloadHosts()
  }
  process.on('SIGHUP', onHup)
  link?.on('reload', onHup)

  // Stop accepting at once (return503OnClosing answers late keep-alive
  // requests), let short calls finish, then end what is still streaming
  // (logs?follow, stats, attach): the forwarder aborts their daemon calls.
  // A worker's shutdown is its primary's signal, named in the log as the signal.
  let primarySignal: string | undefined
  const grace = closeWithGrace({
    delay: SHUTDOWN_DEADLINE_MS,
    logger: { error: (m: unknown) => { app.log.error({ err: m }, 'shutdown') } },
    // SIGHUP reloads (above); it never stops the gateway. A worker stops when its primary says so.
    skip: link === undefined ? ['SIGHUP'] : ['SIGHUP', 'SIGINT', 'SIGTERM']
  }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'fatal error, shutting down')
    else app.log.info({ signal: signal ?? primarySignal }, 'shutting down')
    process.removeListener('SIGHUP', onHup)
    const endStreams = setTimeout(() => { app.server.closeAllConnections() }, STREAM_GRACE_MS)
    endStreams.unref()
    try {
      await started.close()
    } finally {
      clearTimeout(endStreams)
    }
  })
  if (link !== undefined) {
    // The primary signals the shutdown; a Ctrl-C reaching every process of the group is left to it.
    const ignore = (): void => {}
    process.on('SIGINT', ignore)
    process.on('SIGTERM', ignore)
    link.on('shutdown', (m) => {
      primarySignal = m.signal
      void grace.close()
    })
    // A primary that dies without a word takes its workers with it: Node's cluster
    // ends a worker whose IPC channel closes unexpectedly (internal/cluster/child.js).
  }
}

function runToken (args: string[], env: NodeJS.ProcessEnv, io: Io): void {
  const { values } = parseArgs({
    args,
    options: {
      sub: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string', default: '8h' },
      hosts: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    },
    strict: true
  })
  if (values.help === true) { io.out(USAGE); return }
  if (values.sub === undefined) throw new UsageError('token: --sub NAME is required')
  if (values.scope === undefined) throw new UsageError('token: --scope "SCOPE ..." is required')
  const ttlMs = parseDuration(values.ttl ?? '8h', 's')
  if (ttlMs === undefined) throw new UsageError(`token: --ttl ${values.ttl as string} is not a duration (e.g. 30m, 8h, 7d)`)
  if (ttlMs > MAX_TOKEN_TTL_MS) throw new UsageError('token: --ttl is longer than 366 days; prefer short tokens (revoke one with `docker-gateway token revoke <jti>`)')
  const hosts = values.hosts?.split(',').map(h => h.trim()).filter(h => h !== '')

  const config = loadConfig(env)
  if (config.jwtPublicKey !== undefined || config.jwksUrl !== undefined) {
    throw new UsageError('token: this gateway verifies tokens of an identity provider (jwtPublicKey or jwksUrl); tokens come from that provider')
  }
  let secret = config.jwtSecret
  if (secret === undefined) {
    const file = join(config.dataDir, SECRET_FILE)
    try {
      secret = readSecretFile(file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new UsageError(`token: no secret: set GATEWAY_JWT_SECRET, or run \`docker-gateway start\` once to generate ${file} (data folder: GATEWAY_DATA_DIR=${config.dataDir})`)
      }
      throw err
    }
  }
  const signed = signToken(secret, {
    sub: values.sub,
    scope: values.scope,
    ttlMs,
    ...(hosts !== undefined ? { hosts } : {}),
    ...(config.jwtIssuer !== undefined ? { issuer: config.jwtIssuer } : {}),
    ...(config.jwtAudience !== undefined ? { audience: config.jwtAudience } : {})
  })
  io.out(`${signed.token}\n`)
  io.err(`docker-gateway: jti ${signed.jti} (expires ${new Date(signed.exp * 1000).toISOString()}; revoke with: docker-gateway token revoke ${signed.jti})\n`)
}

/**
 * `token revoke <jti|token>`: into the store the running gateways read
 * (src/auth/revocation-store.ts), so they refuse it within about a second.
 * Needs no signing key: see revocationFromToken for why a token's signature
 * is not checked here.
 */
async function runRevoke (args: string[], env: NodeJS.ProcessEnv, io: Io): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
  if (values.help === true) { io.out(USAGE); return }
  if (positionals.length !== 1) throw new UsageError('token revoke: give one jti or one whole token')
  const arg = (positionals[0] as string).trim()
  const config = loadConfig(env)
  let entry
  try {
    entry = looksLikeToken(arg) ? revocationFromToken(arg) : revocationOfJti(arg, undefined)
  } catch (err) {
    if (err instanceof RevocationRequestError) throw new UsageError(`token revoke: ${err.message}`)
    throw err
  }
  if (hasExpired(entry, Date.now())) {
    io.out(`${JSON.stringify(revokeAnswer(entry, false))}\n`)
    io.err(`docker-gateway: jti ${entry.jti} expired at ${new Date(entry.exp * 1000).toISOString()}: nothing to revoke\n`)
    return
  }
  const store = openRevocationStore(config)
  try {
    const stored = await store.add(entry, Date.now())
    io.out(`${JSON.stringify(revokeAnswer(stored, true))}\n`)
    io.err(`docker-gateway: revoked jti ${stored.jti} until ${new Date(stored.exp * 1000).toISOString()} (${store.where})\n`)
  } catch (err) {
    throw new RevokeFailed(`token revoke: NOT revoked: cannot write ${store.where}: ${(err as Error).message}`)
  } finally {
    await store.close()
  }
}

class UsageError extends Error {}
/** The store could not be written: exit 1, the token is still valid. */
class RevokeFailed extends Error {}

/** Run the command; resolves with the exit code (start keeps running and resolves 0). */
export async function main (argv: string[], env: NodeJS.ProcessEnv = process.env, io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'start':
        await runStart(env, io)
        return 0
      case 'token':
        if (rest[0] === 'revoke') await runRevoke(rest.slice(1), env, io)
        else runToken(rest, env, io)
        return 0
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE)
        return command === undefined ? 2 : 0
      default:
        io.err(`docker-gateway: unknown command ${command}\n${USAGE}`)
        return 2
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      io.err(`docker-gateway: ${(err as Error).message}\n`)
      return 2
    }
    if (err instanceof Error && 'code' in err && (err.code === 'EADDRINUSE' || err.code === 'EACCES')) {
      io.err(`docker-gateway: cannot listen: ${err.message}\n`)
      return 1
    }
    if (err instanceof RevokeFailed) {
      io.err(`docker-gateway: ${err.message}\n`)
      return 1
    }
    if (err instanceof TokenRequestError) {
      io.err(`docker-gateway: token: ${err.message}\n`)
      return 2
    }
    throw err
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(code => {
    if (code !== 0) process.exitCode = code
  }, (err: unknown) => {
    process.stderr.write(`docker-gateway: ${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}
