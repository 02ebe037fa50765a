import { existsSync, readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { Value } from '@sinclair/typebox/value'
import { ConfigSchema, type Config } from './schema'
import { checkPolicyConfig } from '../policy/config'
import { parseTlsNames } from '../tls/names'

/** Environment variables and the config key each one sets (dots for nested keys). */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  GATEWAY_LISTEN: 'listen',
  GATEWAY_UPSTREAM: 'upstream',
  GATEWAY_UPSTREAM_CA: 'upstreamCa',
  GATEWAY_UPSTREAM_CERT: 'upstreamCert',
  GATEWAY_UPSTREAM_KEY: 'upstreamKey',
  GATEWAY_DEFAULT_HOST: 'defaultHost',
  GATEWAY_TLS: 'tls',
  GATEWAY_TLS_CERT: 'tlsCert',
  GATEWAY_TLS_KEY: 'tlsKey',
  GATEWAY_TLS_NAMES: 'tlsNames',
  GATEWAY_TLS_CA: 'tlsCa',
  GATEWAY_TLS_CLIENT_AUTH: 'tlsClientAuth',
  GATEWAY_DATA_DIR: 'dataDir',
  GATEWAY_LOG_LEVEL: 'logLevel',
  GATEWAY_BODY_LIMIT: 'bodyLimit',
  GATEWAY_API_VERSION_MIN: 'apiVersionMin',
  GATEWAY_API_VERSION_MAX: 'apiVersionMax',
  GATEWAY_DOCKER_CP: 'dockerCp',
  GATEWAY_WORKERS: 'workers',
  GATEWAY_UPSTREAM_CONNECT_TIMEOUT: 'upstreamTimeouts.connect',
  GATEWAY_UPSTREAM_HEADERS_TIMEOUT: 'upstreamTimeouts.headers',
  GATEWAY_UPSTREAM_BODY_TIMEOUT: 'upstreamTimeouts.body',
  GATEWAY_UPSTREAM_CONNECTIONS: 'upstreamConnections',
  GATEWAY_OWNERSHIP: 'ownership.enabled',
  GATEWAY_METRICS: 'metrics.enabled',
  GATEWAY_METRICS_TOKEN: 'metrics.token',
  // --- Limits against exhaustion (issue 10) ---
  GATEWAY_MAX_CONNECTIONS: 'limits.maxConnections',
  GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: 'limits.maxConnectionsPerAddress',
  GATEWAY_HEADERS_TIMEOUT: 'limits.headersTimeoutMs',
  GATEWAY_REQUEST_TIMEOUT: 'limits.requestTimeoutMs',
  GATEWAY_KEEP_ALIVE_TIMEOUT: 'limits.keepAliveTimeoutMs',
  GATEWAY_CONNECTIONS_PER_PRINCIPAL: 'limits.connectionsPerPrincipal',
  GATEWAY_STREAMS_PER_PRINCIPAL: 'limits.streamsPerPrincipal',
  GATEWAY_STREAM_KEEPALIVE: 'limits.streamKeepAliveMs',
  GATEWAY_STREAM_IDLE_TIMEOUT: 'limits.streamIdleTimeoutMs',
  GATEWAY_ARCHIVE_UPLOAD_BYTES: 'limits.archiveUploadBytes',
  // --- Authentication, rate limit, audit (issue 3) ---
  GATEWAY_JWT_SECRET: 'jwtSecret',
  GATEWAY_JWT_SECRET_FILE: 'jwtSecretFile',
  GATEWAY_JWT_PUBLIC_KEY: 'jwtPublicKey',
  GATEWAY_JWKS_URL: 'jwksUrl',
  GATEWAY_JWT_ISSUER: 'jwtIssuer',
  GATEWAY_JWT_AUDIENCE: 'jwtAudience',
  GATEWAY_TOKEN_CACHE_SIZE: 'tokenCacheSize',
  GATEWAY_RATE_LIMIT_MAX: 'rateLimit.max',
  GATEWAY_RATE_LIMIT_WINDOW: 'rateLimit.timeWindow',
  GATEWAY_REDIS_URL: 'redisUrl',
  GATEWAY_REDIS_DOWN: 'redisDown',
  GATEWAY_AUDIT_FILE: 'audit.destination'
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export const DEFAULT_SOCKET = '/var/run/docker.sock'

/** The embedded default upstream: the local socket if there is one, else the classic open port. */
export function defaultUpstream (socketExists: (p: string) => boolean = existsSync): string {
  return socketExists(DEFAULT_SOCKET) ? `unix://${DEFAULT_SOCKET}` : 'tcp://127.0.0.1:2375'
}

function readFile (file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`)
  }
  let data: unknown
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both.
    data = parseYaml(text)
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML or JSON: ${(err as Error).message}`)
  }
  if (data === null || data === undefined) return {}
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`config file ${file} must hold a mapping of keys`)
  return data as Record<string, unknown>
}

function setPath (obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let cur = obj
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i] as string
    const next = cur[k]
    if (next === null || typeof next !== 'object') cur[k] = {}
    cur = cur[k] as Record<string, unknown>
  }
  cur[parts[parts.length - 1] as string] = value
}

/**
 * `hosts: { a: "tcp://10.0.0.1:2375" }` is short for `hosts: { a: { url: "tcp://10.0.0.1:2375" } }`.
 * Expanded before validation, so the schema has one form and a mistake in the long
 * form is still reported at its own key (a union would only say "Expected union value").
 */
export function expandHostShorthand (data: Record<string, unknown>): void {
  const hosts = data.hosts
  if (hosts === null || typeof hosts !== 'object' || Array.isArray(hosts)) return
  for (const [name, value] of Object.entries(hosts)) {
    if (typeof value === 'string') (hosts as Record<string, unknown>)[name] = { url: value }
  }
}

/** Load, merge (env over file over defaults) and validate the configuration. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env, socketExists?: (p: string) => boolean): Config {
  const file = env.GATEWAY_CONFIG
  const data: Record<string, unknown> = file !== undefined && file !== '' ? readFile(file) : {}
  const fromEnv = new Map<string, string>()
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name]
    if (value !== undefined && value !== '') {
      setPath(data, key, value)
      fromEnv.set(key, name)
    }
  }
  expandHostShorthand(data)
  const withDefaults = Value.Default(ConfigSchema, data)
  const converted = Value.Convert(ConfigSchema, withDefaults)
  const first = Value.Errors(ConfigSchema, converted).First()
  if (first !== undefined) {
    const key = first.path.replace(/^\//, '').replaceAll('/', '.')
    const source = fromEnv.has(key) ? ` (from ${fromEnv.get(key) as string})` : file !== undefined ? ` (in ${file})` : ''
    const what = first.message === 'Unexpected property' ? 'unknown key' : first.message
    throw new ConfigError(`invalid configuration: ${key === '' ? '(root)' : key}${source}: ${what}`)
  }
  const config = converted as Config
  if (config.jwtSecretFile !== undefined) {
    if (config.jwtSecret !== undefined) throw new ConfigError('invalid configuration: set jwtSecret or jwtSecretFile, not both')
    let secret: string
    try {
      secret = readFileSync(config.jwtSecretFile, 'utf8').trim()
    } catch (err) {
      throw new ConfigError(`invalid configuration: jwtSecretFile: cannot read ${config.jwtSecretFile}: ${(err as Error).message}`)
    }
    // Same rule as jwtSecret itself (RFC 7518 §3.2: an HS256 key of at least 256 bits).
    if (secret.length < 32) throw new ConfigError(`invalid configuration: jwtSecretFile: the secret in ${config.jwtSecretFile} is shorter than 32 characters`)
    config.jwtSecret = secret
    delete config.jwtSecretFile
  }
  const { headersTimeoutMs, requestTimeoutMs } = config.limits
  // Node refuses a server whose headersTimeout exceeds a non-zero requestTimeout.
  if (requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) throw new ConfigError(`invalid configuration: limits.headersTimeoutMs (${headersTimeoutMs}) is longer than limits.requestTimeoutMs (${requestTimeoutMs})`)
  try {
    parseTlsNames(config.tlsNames)
  } catch (err) {
    throw new ConfigError(`invalid configuration: tlsNames${fromEnv.has('tlsNames') ? ' (from GATEWAY_TLS_NAMES)' : file !== undefined ? ` (in ${file})` : ''}: ${(err as Error).message}`)
  }
  const policyProblems = checkPolicyConfig(config.policy)
  if (policyProblems.length > 0) throw new ConfigError(`invalid configuration: policy: ${policyProblems.join('; ')}`)
  if (config.upstream === undefined && config.hosts === undefined) config.upstream = defaultUpstream(socketExists)
  return config
}
