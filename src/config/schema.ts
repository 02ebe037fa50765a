import { Type, type Static } from '@sinclair/typebox'

/**
 * The gateway's whole configuration. Every key can come from the config
 * file (GATEWAY_CONFIG, YAML or JSON) under the name shown here, and most from
 * an environment variable (see ENV_KEYS in load.ts), which wins over the file.
 * Unknown keys are an error, so a typo never silently leaves a default in force.
 */

const Str = (opts: Record<string, unknown> = {}) => Type.String({ minLength: 1, ...opts })

export const HostSchema = Type.Object({
  url: Str({ description: 'tcp://host:port, http://, https:// or unix:///path' }),
  ca: Type.Optional(Str()),
  cert: Type.Optional(Str()),
  key: Type.Optional(Str()),
  /** Per-host overrides of upstreamTimeouts (a daemon across a WAN link needs more). */
  timeouts: Type.Optional(Type.Object({
    connect: Type.Optional(Type.Integer({ minimum: 1 })),
    headers: Type.Optional(Type.Integer({ minimum: 1 })),
    body: Type.Optional(Type.Integer({ minimum: 1 }))
  }, { additionalProperties: false }))
}, { additionalProperties: false })

export const ConfigSchema = Type.Object({
  /** host:port the gateway listens on. */
  listen: Str({ default: '0.0.0.0:8443', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):[0-9]{1,5}$' }),

  /** The single daemon, as host "default". Default: the local socket if present, else tcp://127.0.0.1:2375. */
  upstream: Type.Optional(Str()),
  upstreamCa: Type.Optional(Str()),
  upstreamCert: Type.Optional(Str()),
  upstreamKey: Type.Optional(Str()),
  /** Many daemons: name -> upstream. */
  hosts: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), HostSchema)),
  defaultHost: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })),

  /** 'on' serves HTTPS (a self-signed certificate is made if none is configured), 'off' plain HTTP. */
  tls: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  tlsCert: Type.Optional(Str()),
  tlsKey: Type.Optional(Str()),
  tlsCa: Type.Optional(Str()),
  tlsClientAuth: Type.Union([Type.Literal('none'), Type.Literal('optional'), Type.Literal('require')], { default: 'none' }),

  /** Where generated material (self-signed certificate, JWT secret) is kept. */
  dataDir: Str({ default: '.data' }),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }),
  /** Largest accepted request body (create, exec), in bytes. */
  bodyLimit: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 }),

  /** Oldest API version prefix accepted (Docker 25+ refuses below 1.24 too). */
  apiVersionMin: Type.String({ pattern: '^1\\.(0|[1-9][0-9]{0,3})$', default: '1.24' }),
  /** Newest accepted; unset means "what the daemon reports". */
  apiVersionMax: Type.Optional(Type.String({ pattern: '^1\\.(0|[1-9][0-9]{0,3})$' })),

  upstreamTimeouts: Type.Object({
    connect: Type.Integer({ minimum: 1, default: 5000 }),
    /** Time for the daemon to send response headers; stop/restart add their `t`. */
    headers: Type.Integer({ minimum: 1, default: 60000 }),
    /** Idle time between body chunks on short calls; streams have none. */
    body: Type.Integer({ minimum: 1, default: 300000 })
  }, { default: {}, additionalProperties: false }),
  /** Connections per daemon for short calls; streams get their own, unbounded pool. */
  upstreamConnections: Type.Integer({ minimum: 1, maximum: 4096, default: 128 }),

  /** Background `/_ping` per host; drives GET /hosts and the circuit breakers. */
  healthCheck: Type.Object({
    intervalMs: Type.Integer({ minimum: 100, default: 2000 }),
    timeoutMs: Type.Integer({ minimum: 50, default: 1000 }),
    /** Failed checks in a row before a host is down. */
    fall: Type.Integer({ minimum: 1, default: 2 }),
    /** Good checks in a row before a down host is up again. */
    rise: Type.Integer({ minimum: 1, default: 1 }),
    /** A slower ping marks the host degraded. */
    degradedLatencyMs: Type.Integer({ minimum: 1, default: 500 })
  }, { default: {}, additionalProperties: false }),
  /** Per-host circuit breaker: calls to a host that keeps failing fail fast with 503. */
  circuitBreaker: Type.Object({
    /** Transport failures in a row that open the circuit. */
    failureThreshold: Type.Integer({ minimum: 1, default: 3 }),
    /** Time an open circuit refuses calls before one probe call is let through. */
    halfOpenAfterMs: Type.Integer({ minimum: 100, default: 5000 })
  }, { default: {}, additionalProperties: false }),
  /** GET /hosts/_all/containers/json: time each host has to answer before it is reported failed. */
  fleet: Type.Object({
    deadlineMs: Type.Integer({ minimum: 100, default: 5000 })
  }, { default: {}, additionalProperties: false })
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>
export type HostConfig = Static<typeof HostSchema>
