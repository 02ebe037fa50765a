import { Type, type Static } from '@sinclair/typebox'
import { PolicyConfigSchema } from '../policy/config'
import { DURATION_PATTERN } from '../auth/duration'

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

/** One mutual-TLS principal (issue 3): what a client certificate may do. */
export const ClientCertificateSchema = Type.Object({
  /** Space-separated scopes, as in a token's `scope` claim. */
  scope: Str(),
  /** Hosts it may reach, as a token's `hosts` claim; absent means every host. */
  hosts: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }))),
  /** The principal recorded and rate-limited; default: the matched key, e.g. `CN=billing-svc`. */
  sub: Type.Optional(Str({ maxLength: 256 }))
}, { additionalProperties: false })

export const ConfigSchema = Type.Object({
  /** host:port the gateway listens on. */
  listen: Str({ default: '0.0.0.0:8443', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):[0-9]{1,5}$' }),

  /** The single daemon, as host "default". Default: the local socket if present, else tcp://127.0.0.1:2375. */
  upstream: Type.Optional(Str()),
  /** CA file to verify an https:// daemon (port 2376 style); verification is always on. */
  upstreamCa: Type.Optional(Str()),
  /** Client certificate file for an https:// daemon. */
  upstreamCert: Type.Optional(Str()),
  /** Client key file for an https:// daemon. */
  upstreamKey: Type.Optional(Str()),
  /** Many daemons: name -> upstream, or name -> just its URL (`a: tcp://10.0.0.1:2375`). */
  // additionalProperties: a Record with a key pattern otherwise lets any
  // other key through unchecked (it becomes patternProperties only).
  hosts: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), HostSchema, { additionalProperties: false })),
  /** The host that unprefixed calls go to when `hosts` names several. */
  defaultHost: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })),

  /** 'on' serves HTTPS (a self-signed certificate is made if none is configured), 'off' plain HTTP. */
  tls: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  /** Server certificate file (PEM); unset with tls on: a self-signed one is made in dataDir. */
  tlsCert: Type.Optional(Str()),
  /** Server key file (PEM). */
  tlsKey: Type.Optional(Str()),
  /**
   * More names for the self-signed certificate, comma-separated DNS names and IP addresses (`gw.internal,10.0.0.5`).
   * It always names localhost, 127.0.0.1, ::1, the host name and the machine's addresses; a name it lacks makes a new one at start.
   */
  tlsNames: Type.Optional(Str()),
  /** CA file that client certificates must chain to (mutual TLS). */
  tlsCa: Type.Optional(Str()),
  /** Client certificates: not asked for, optional (token or certificate), or required. */
  tlsClientAuth: Type.Union([Type.Literal('none'), Type.Literal('optional'), Type.Literal('require')], { default: 'none' }),

  /**
   * Worker processes serving requests (node:cluster): `auto` runs one per core this process may use, `1` runs a
   * single process. Workers share the rate-limit counters (through Redis, or else the primary process), the
   * hosts' circuit breakers and health checks (one worker checks, every worker knows); caches and the
   * per-principal connection and stream caps are per worker (docs/scale-out.md).
   */
  workers: Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 1, maximum: 256 })], { default: 'auto' }),
  /** Where generated material (self-signed certificate, JWT secret) and, without redisUrl, the token revocation list are kept. */
  dataDir: Str({ default: '.data' }),
  /** pino level of the main log; audit lines are written at every level but silent. */
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }),
  /** Largest accepted request body (create, exec), in bytes. */
  bodyLimit: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 }),

  /** Oldest API version prefix accepted (Docker 25+ refuses below 1.24 too). */
  apiVersionMin: Type.String({ pattern: '^1\\.(0|[1-9][0-9]{0,3})$', default: '1.24' }),
  /** Newest accepted; unset means "what the daemon reports". */
  apiVersionMax: Type.Optional(Type.String({ pattern: '^1\\.(0|[1-9][0-9]{0,3})$' })),

  /**
   * docker cp (`/containers/{id}/archive`): `auto` serves it only to daemons
   * that report Docker Engine 29.5.1 or later, where the copy's mount-setup
   * races are fixed (CVE-2026-41568, CVE-2026-42306: a process in the
   * caller's own container can create or redirect files on the host); `on`
   * serves it to every daemon (trusted principals, or a patched daemon that
   * reports another version); `off` never.
   */
  dockerCp: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], { default: 'auto' }),

  upstreamTimeouts: Type.Object({
    /** Time to connect to a daemon, ms. */
    connect: Type.Integer({ minimum: 1, default: 5000 }),
    /** Time for the daemon to send response headers; stop/restart add their `t`. */
    headers: Type.Integer({ minimum: 1, default: 60000 }),
    /** Idle time between body chunks on short calls; streams have none. */
    body: Type.Integer({ minimum: 1, default: 300000 })
  }, { default: {}, additionalProperties: false }),
  /** Connections per daemon for short calls; streams get their own, unbounded pool. */
  upstreamConnections: Type.Integer({ minimum: 1, maximum: 4096, default: 128 }),

  /** Prometheus metrics at GET /metrics (issue 7 §3). */
  metrics: Type.Object({
    /** Serve Prometheus metrics at GET /metrics. */
    enabled: Type.Boolean({ default: true }),
    /** Bearer token the scraper sends; unset leaves /metrics open like /healthz. */
    token: Type.Optional(Str())
  }, { default: {}, additionalProperties: false }),

  /** The create/exec/update body policy (issue 4 §1); every default is the secure choice. `policy.mode: report` (or `policy.reportRules`) forwards what the policy would deny and audits it as `would-deny`, while ownership still refuses. */
  policy: PolicyConfigSchema,

  /** Per-principal container ownership (issue 4 §2). */
  ownership: Type.Object({
    /** Per-principal container ownership: each principal sees and reaches only its own containers. */
    enabled: Type.Boolean({ default: true }),
    /** Label stamped on every container at create; its value is the creator's `sub`. */
    label: Type.String({ pattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9]$', default: 'docker-gateway.owner' }),
    /** Bound on the id -> owner cache. */
    cacheSize: Type.Integer({ minimum: 100, default: 100000 })
  }, { default: {}, additionalProperties: false }),

  /** Background `/_ping` per host; drives GET /hosts and the circuit breakers. */
  healthCheck: Type.Object({
    /** Time between two `/_ping` checks of a host, ms. */
    intervalMs: Type.Integer({ minimum: 100, default: 2000 }),
    /** A check that takes longer has failed, ms. */
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
    /** Time each host has to answer GET /hosts/_all/containers/json before it is reported failed, ms. */
    deadlineMs: Type.Integer({ minimum: 100, default: 5000 })
  }, { default: {}, additionalProperties: false }),

  /**
   * Limits against resource exhaustion (issue 10 finding 2, finding 9). Each
   * refusal writes one warn line per limit and logIntervalMs, with the count
   * of refusals since the last line, so a flood cannot flood the log.
   */
  limits: Type.Object({
    /**
     * Open client connections in total (Node's server.maxConnections); more are closed at accept.
     * Unset: a third of the process's open-file limit (each stream also holds a daemon socket), at most 4096.
     */
    maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    /**
     * Open connections per client address that have not yet carried an authenticated request.
     * IPv6 clients count per /64 (one host can use any address of its /64); `::ffff:a.b.c.d` counts as a.b.c.d.
     */
    maxConnectionsPerAddress: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 64 }),
    /** A request head not complete this long after the connection (or the request) began is answered 408 and closed. */
    headersTimeoutMs: Type.Integer({ minimum: 500, maximum: 600_000, default: 10_000 }),
    /** Whole request (head and body) from the client; 0 turns it off. Responses, streams included, are not bounded by it. */
    requestTimeoutMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 60_000 }),
    /** An idle keep-alive connection is closed after this long (Docker's Go client keeps idle ones 90 s). */
    keepAliveTimeoutMs: Type.Integer({ minimum: 1000, maximum: 600_000, default: 65_000 }),
    /**
     * Open connections per principal: a connection belongs to the first principal authenticated on it until it closes.
     * A request that would take one more is answered 429 and its connection closed.
     */
    connectionsPerPrincipal: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 64 }),
    /** Concurrent streams (logs, stats, export, wait, attach, exec start) per principal; more are answered 429. */
    streamsPerPrincipal: Type.Integer({ minimum: 1, maximum: 100_000, default: 32 }),
    /** TCP keepalive on both sockets of a hijacked stream (attach, exec): first probe after this much silence. */
    streamKeepAliveMs: Type.Integer({ minimum: 1000, maximum: 7_200_000, default: 60_000 }),
    /** A hijacked stream with no byte in either direction for this long is closed on both sides; 0 turns it off. */
    streamIdleTimeoutMs: Type.Integer({ minimum: 0, maximum: 604_800_000, default: 3_600_000 }),
    /**
     * Largest tar a `docker cp` into a container (PUT /containers/{id}/archive) may send, in bytes.
     * Streamed, never held by the gateway; an upload over it is cut before the first tar entry that does not
     * fit whole and answered 413, and the daemon's extraction fails (the entries before the cut stay, whole).
     * The upload must also end within limits.requestTimeoutMs.
     */
    archiveUploadBytes: Type.Integer({ minimum: 1024, maximum: 1024 ** 4, default: 1024 ** 3 }),
    /** At most one log line per limit in this interval. */
    logIntervalMs: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 60_000 })
  }, { default: {}, additionalProperties: false }),

  // --- Authentication, client certificates, rate limit, audit (issue 3) ---
  /** HS256 shared secret for bearer tokens (RFC 7518 §3.2: at least 256 bits). Exactly one of jwtSecret, jwtPublicKey, jwksUrl. */
  jwtSecret: Type.Optional(Str({ minLength: 32 })),
  /** A file holding jwtSecret (Docker/compose secrets: /run/secrets/NAME); read once at start. */
  jwtSecretFile: Type.Optional(Str()),
  /** File holding the identity provider's public key: PEM (SPKI or certificate) or one JWK; RSA, EC P-256/384/521 or Ed25519. */
  jwtPublicKey: Type.Optional(Str()),
  /** The identity provider's JWK set; https (http only for loopback). */
  jwksUrl: Type.Optional(Str({ pattern: '^https?://' })),
  /** When set, a token's `iss` must equal it. */
  jwtIssuer: Type.Optional(Str()),
  /** When set, a token's `aud` must contain it. */
  jwtAudience: Type.Optional(Str()),
  /** Verified tokens remembered (LRU, each until its exp); 0 turns the cache off. */
  tokenCacheSize: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 10000 }),
  /**
   * Mutual TLS principals: a verified client certificate's identity -> its grant.
   * Keys are `CN=<common name>`, `DNS:<dNSName SAN>` or `URI:<URI SAN>`.
   */
  clientCertificates: Type.Optional(Type.Record(Type.String({ pattern: '^(CN=|DNS:|URI:).+$' }), ClientCertificateSchema, { additionalProperties: false })),
  /** Requests per principal (per source IP before authentication) in each window; max 0 turns the limit off. */
  rateLimit: Type.Object({
    /** Requests per principal (per source address before authentication) in each window; 0 turns the limit off. */
    max: Type.Integer({ minimum: 0, default: 1000 }),
    /** `1m`, `30 seconds`, or milliseconds. */
    timeWindow: Type.String({ pattern: DURATION_PATTERN, default: '1m' })
  }, { default: {}, additionalProperties: false }),
  /** redis:// or rediss:// URL: rate-limit counters and the token revocation list, shared by every gateway replica. */
  redisUrl: Type.Optional(Str({ pattern: '^rediss?://' })),
  /**
   * What a replica does while the Redis of `redisUrl` does not answer (refused, or no answer within 500 ms); without `redisUrl` it has no effect.
   * `open` (the default): requests are not counted by the rate limit, and the revocation list last read stays in force (a token revoked
   * before the outage stays refused; one revoked on another replica during it is not seen); a warning is logged every 30 s at most.
   * `closed`: every request the rate limit would count gets 503 `{"message": ...}` naming the cause, and a token with a `jti` is answered
   * 503 when the list was last read more than 2 s ago; /readyz answers 503 so a load balancer drains the replica.
   * Open is the default because authentication, scopes, policy and ownership never depend on Redis: losing it loses the shared rate limit
   * and fresh revocations, not access control. Closed costs availability: a Redis outage is an outage of every replica, and a hung Redis
   * adds up to 500 ms to each request before its 503.
   */
  redisDown: Type.Union([Type.Literal('open'), Type.Literal('closed')], { default: 'open' }),
  audit: Type.Object({
    /** `stdout`, `stderr` or a file path for the audit lines; unset: they go with the other log lines. */
    destination: Type.Optional(Str())
  }, { default: {}, additionalProperties: false })
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>
export type HostConfig = Static<typeof HostSchema>
