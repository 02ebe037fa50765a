import { buildConnector, Client, Pool } from 'undici'
import { parseUpstream, type UpstreamTarget } from './target'
import { CircuitBreaker, type BreakerEvent, type BreakerOptions } from './breaker'
import { DEFAULT_HEALTH, HealthLoop, initialHealth, type HealthOptions, type HostHealth } from './health'
import { decideHostAccess, reachableNames } from './host-access'
import { CircuitOpen, HostForbidden, HostUnknown, PageNotFound } from '../errors'
import type { Config, HostConfig } from '../config/schema'
import { callDaemon, recordOutcome, type CallAnswer, type CallOptions, type CallOutcome, type UpstreamObserver } from './call'
import { pipeUpgrade, type PipeUpgradeOptions, type PipeUpgradeResult } from '../upgrade/pipe'

/** The upgrade pipe's options less what the host supplies (its target, its breaker). */
export type HostUpgradeOptions = Omit<PipeUpgradeOptions, 'target' | 'onOutcome'>

/**
 * One Docker daemon behind the gateway, with the connection pools that reach it.
 *
 * Two pools per daemon, because short calls and long-lived streams must never
 * wait in one bounded queue: with 200 `logs?follow=1` streams holding
 * connections, a bounded shared pool would queue a list call forever. The
 * stream pool is unbounded (one connection per open stream, closed when the
 * stream ends); the short pool is bounded and keeps connections alive.
 *
 * Every daemon has its own pools, breaker and health check, so one slow or
 * dead daemon never queues calls to another: there is no shared queue.
 *
 * The gateway's own calls to a daemon go through `call` (short, read whole)
 * and `upgrade` (attach/exec hijack), which report every outcome to the
 * host's breaker and metrics; the mirror's relay reports through
 * HostRegistry.record. Only the health check keeps its own connection and
 * its own say over the breaker (src/upstream/health.ts).
 */
export interface StreamConnection {
  dispatcher: Client
  /** Destroy the connection: the stream is over (ended, failed or abandoned). */
  release: () => void
}

export interface UpstreamHost {
  readonly name: string
  readonly target: UpstreamTarget
  readonly short: Pool
  /**
   * A fresh connection for one long-lived stream, closed when the stream
   * ends. Not a pool: after an aborted request undici's pool may dial a
   * replacement connection that is never used, and dockerd never closes idle
   * connections (nodejs/undici#5845), so every client hang-up would leave a
   * socket open at the daemon.
   */
  readonly openStream: () => StreamConnection
  /** Close (graceful) or destroy every open stream connection. */
  readonly closeStreams: (graceful: boolean) => Promise<void>
  /** One connection of its own for health checks (never queued behind calls). */
  readonly probe: Client
  /**
   * One short call on the short pool, read whole: any answer (404, 500...)
   * counts as the daemon alive, a transport failure against it; that failure
   * is thrown as Docker's 502/504 (src/upstream/call.ts).
   */
  readonly call: (opts: CallOptions) => Promise<CallAnswer>
  /**
   * The upgrade pipe (src/upgrade/pipe.ts) to this daemon; the handshake's
   * outcome goes to the breaker: any answer, 101 or not, is the daemon alive,
   * a connect failure or no response head in time counts against it.
   */
  readonly upgrade: (opts: HostUpgradeOptions) => Promise<PipeUpgradeResult>
  readonly timeouts: HostTimeouts
  readonly breaker: CircuitBreaker
  health: HostHealth
  /** The daemon's API version from its last good `/_ping` (`Api-Version`), e.g. "1.41". */
  readonly apiVersion: string | undefined
  /** The configuration it was opened from (reload compares it). */
  readonly config: HostConfig
}

export interface HostTimeouts {
  connect: number
  headers: number
  body: number
}

export interface PoolOptions {
  connectTimeout: number
  headersTimeout: number
  bodyTimeout: number
  connections: number
  breaker?: BreakerOptions
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 3, halfOpenAfterMs: 5000 }

export function poolOptionsFrom (config: Config): PoolOptions {
  return {
    connectTimeout: config.upstreamTimeouts.connect,
    headersTimeout: config.upstreamTimeouts.headers,
    bodyTimeout: config.upstreamTimeouts.body,
    connections: config.upstreamConnections,
    breaker: config.circuitBreaker ?? DEFAULT_BREAKER
  }
}

export function openHost (name: string, host: HostConfig, opts: PoolOptions, observer?: UpstreamObserver): UpstreamHost {
  const target = parseUpstream(host.url, { ca: host.ca, cert: host.cert, key: host.key })
  const timeouts: HostTimeouts = {
    connect: host.timeouts?.connect ?? opts.connectTimeout,
    headers: host.timeouts?.headers ?? opts.headersTimeout,
    body: host.timeouts?.body ?? opts.bodyTimeout
  }
  const connect = {
    timeout: timeouts.connect,
    ...(target.socketPath !== undefined ? { socketPath: target.socketPath } : {}),
    ...(target.tls ?? {})
  }
  const short = new Pool(target.origin, {
    connections: opts.connections,
    headersTimeout: timeouts.headers,
    bodyTimeout: timeouts.body,
    connect
  })
  const streams = new Set<Client>()
  // One connector for all of the host's stream connections: given the options
  // object, every Client would build its own (a TLS session cache with its
  // Map and FinalizationRegistry, lib/core/connect.js in undici), and a
  // stream's Client lives as long as the stream (issue 12: 5,000 held streams).
  // The pools build one per pool the same way.
  const streamConnector = buildConnector(connect)
  // Likewise the origin: a string is parsed into a new URL per Client; a URL is taken as it is.
  const streamOrigin = new URL(target.origin)
  const openStream = (): StreamConnection => {
    const client = new Client(streamOrigin, {
      headersTimeout: timeouts.headers,
      // Follow/stream responses may be silent for hours; only the client's
      // disconnect or the daemon's end closes them.
      bodyTimeout: 0,
      connect: streamConnector
    })
    streams.add(client)
    return {
      dispatcher: client,
      release: () => {
        streams.delete(client)
        void client.destroy().catch(() => {})
      }
    }
  }
  const probe = new Client(target.origin, { connect, pipelining: 1 })
  const breaker = new CircuitBreaker(opts.breaker ?? DEFAULT_BREAKER)
  const callTarget = { name, dispatcher: short, timeouts, breaker, ...(observer !== undefined ? { observer } : {}) }
  const upgrade = async (o: HostUpgradeOptions): Promise<PipeUpgradeResult> => {
    const started = performance.now()
    return await pipeUpgrade({
      ...o,
      target,
      onOutcome: (outcome) => {
        if (outcome.error === undefined && outcome.clientAborted !== true) observer?.upstreamResponded(name, (performance.now() - started) / 1000)
        recordOutcome(breaker, outcome)
      }
    })
  }
  const h: UpstreamHost = {
    name,
    target,
    short,
    openStream,
    closeStreams: async (graceful: boolean) => {
      await Promise.all([...streams].map(async c => { await (graceful ? c.close() : c.destroy()) }))
    },
    probe,
    call: async (o) => await callDaemon(callTarget, o),
    upgrade,
    timeouts,
    breaker,
    health: initialHealth(),
    get apiVersion () { return this.health.apiVersion },
    config: host
  }
  return h
}

async function closeHost (h: UpstreamHost): Promise<void> {
  await Promise.all([h.short.close(), h.closeStreams(true), h.probe.close()])
}

async function destroyHost (h: UpstreamHost): Promise<void> {
  await Promise.all([h.short.destroy(), h.closeStreams(false), h.probe.destroy()])
}

/** The configured daemons by name; a single GATEWAY_UPSTREAM is the host "default". */
export function hostConfigsFrom (config: Config): { hosts: Map<string, HostConfig>, defaultHost: string } {
  const hosts = new Map<string, HostConfig>()
  if (config.hosts !== undefined) {
    for (const [name, h] of Object.entries(config.hosts)) hosts.set(name, h)
  }
  if (config.upstream !== undefined) {
    hosts.set('default', { url: config.upstream, ca: config.upstreamCa, cert: config.upstreamCert, key: config.upstreamKey })
  }
  const defaultHost = config.defaultHost ?? (hosts.has('default') ? 'default' : [...hosts.keys()][0] ?? 'default')
  return { hosts, defaultHost }
}

export type RouteResult =
  | { ok: true, host: UpstreamHost, probe: boolean }
  | { ok: false, error: Error & { statusCode?: number } }

export interface ReloadResult {
  added: string[]
  removed: string[]
  changed: string[]
  defaultHost: string
}

function sameConfig (a: HostConfig, b: HostConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Where a worker's host news goes (src/cluster/host-sharing.ts). */
export interface HostPeers {
  breakerChanged: (host: string, event: BreakerEvent, reason: string) => void
  healthChecked: (host: string, health: HostHealth) => void
}

export class HostRegistry {
  private readonly byName = new Map<string, UpstreamHost>()
  private readonly loops = new Map<string, HealthLoop>()
  /** Removed or replaced hosts whose pools are draining. */
  private readonly draining = new Set<Promise<void>>()
  private readonly drainingHosts = new Set<UpstreamHost>()
  private healthOpts: HealthOptions
  private checking = false
  private readonly observer: UpstreamObserver | undefined
  private peers: HostPeers | undefined
  /** Another worker runs the health checks and tells this one (src/cluster). */
  private followsChecks = false
  defaultHost: string

  /** `observer`: the metrics every host's calls report their latency to, when metrics are on. */
  constructor (config: Config, opts: { observer?: UpstreamObserver } = {}) {
    const { hosts, defaultHost } = hostConfigsFrom(config)
    this.healthOpts = config.healthCheck ?? DEFAULT_HEALTH
    this.observer = opts.observer
    for (const [name, h] of hosts) this.byName.set(name, this.watched(openHost(name, h, poolOptionsFrom(config), this.observer)))
    this.defaultHost = defaultHost
  }

  /** Its breaker's changes go to the other workers, once there are any. */
  private watched (host: UpstreamHost): UpstreamHost {
    host.breaker.onEvent = (event, reason) => { this.peers?.breakerChanged(host.name, event, reason) }
    return host
  }

  /**
   * Share host news with the other workers of this gateway (src/cluster):
   * breaker changes always; health results when this worker runs the checks.
   * `follow`: another worker runs the health checks; startHealthChecks()
   * then starts none until leadHealthChecks().
   */
  shareWith (peers: HostPeers, opts: { follow: boolean }): void {
    this.peers = peers
    this.followsChecks = opts.follow
  }

  /** What another worker's breaker for this host learnt. */
  mirrorBreaker (name: string, event: BreakerEvent, reason: string): void {
    this.byName.get(name)?.breaker.mirror(event, reason)
  }

  /** The health leader checked this host. */
  mirrorHealth (name: string, health: HostHealth): void {
    const host = this.byName.get(name)
    if (host !== undefined) host.health = health
  }

  /** This worker runs the health checks from now on (the leader left). */
  async leadHealthChecks (): Promise<void> {
    if (!this.followsChecks) return
    this.followsChecks = false
    if (this.checking) await Promise.all(this.all().map(async h => { await this.startLoop(h) }))
  }

  get (name: string | undefined): UpstreamHost | undefined {
    return this.byName.get(name ?? this.defaultHost)
  }

  names (): string[] {
    return [...this.byName.keys()]
  }

  all (): UpstreamHost[] {
    return [...this.byName.values()]
  }

  /** The hosts a token with this `hosts` claim may reach (all when the claim is absent). */
  reachable (allowed: readonly string[] | undefined): UpstreamHost[] {
    return reachableNames(this.names(), allowed).map(n => this.byName.get(n) as UpstreamHost)
  }

  /**
   * Pick the host for one mirrored call: the `/hosts/{name}` prefix or the
   * default, checked against the token's claim (403), existence (404) and
   * the host's circuit breaker (503, at once, while the host is known bad).
   */
  route (requested: string | undefined, allowed: readonly string[] | undefined): RouteResult {
    const d = decideHostAccess(requested, this.defaultHost, n => this.byName.has(n), allowed)
    if (!d.ok) {
      if (d.pageNotFound === true) return { ok: false, error: new PageNotFound() }
      return { ok: false, error: d.status === 403 ? new HostForbidden(d.message) : new HostUnknown(d.message) }
    }
    const host = this.byName.get(d.name) as UpstreamHost
    const admission = host.breaker.admit()
    if (!admission.ok) {
      const message = `Docker host "${host.name}" is unavailable: ${admission.reason}`
      return { ok: false, error: new CircuitOpen(message) }
    }
    return { ok: true, host, probe: admission.probe }
  }

  /** Feed one call's transport outcome to the host's breaker. */
  record (host: UpstreamHost, outcome: CallOutcome): void {
    recordOutcome(host.breaker, outcome)
  }

  /** Start background health checks; resolves once every host has been checked once. */
  async startHealthChecks (): Promise<void> {
    this.checking = true
    await Promise.all(this.all().map(async h => { await this.startLoop(h) }))
  }

  private async startLoop (h: UpstreamHost): Promise<void> {
    if (this.followsChecks) return
    const loop = new HealthLoop(h, this.healthOpts, (c) => { this.peers?.healthChecked(c.name, c.health) })
    this.loops.set(h.name, loop)
    await loop.start()
  }

  private async stopLoop (name: string): Promise<void> {
    const loop = this.loops.get(name)
    this.loops.delete(name)
    await loop?.stop()
  }

  async stopHealthChecks (): Promise<void> {
    this.checking = false
    await Promise.all([...this.loops.keys()].map(async n => { await this.stopLoop(n) }))
  }

  get healthOptions (): HealthOptions { return this.healthOpts }

  /**
   * Apply a new host list (SIGHUP). New hosts are opened (and checked),
   * removed ones leave the registry at once and their pools drain: close()
   * lets calls in flight, streams included, finish, and refuses new ones.
   * A host whose settings changed is replaced the same way.
   */
  async reload (config: Config): Promise<ReloadResult> {
    const { hosts, defaultHost } = hostConfigsFrom(config)
    const poolOpts = poolOptionsFrom(config)
    const result: ReloadResult = { added: [], removed: [], changed: [], defaultHost }
    // Open everything first: a bad URL or unreadable certificate in the new
    // list throws here, before the running list is touched.
    const opened: UpstreamHost[] = []
    try {
      for (const [name, h] of hosts) {
        const old = this.byName.get(name)
        if (old !== undefined && sameConfig(old.config, h)) continue
        opened.push(this.watched(openHost(name, h, poolOpts, this.observer)))
        ;(old !== undefined ? result.changed : result.added).push(name)
      }
    } catch (err) {
      await Promise.all(opened.map(destroyHost))
      throw err
    }
    this.healthOpts = config.healthCheck ?? DEFAULT_HEALTH
    for (const fresh of opened) {
      const old = this.byName.get(fresh.name)
      this.byName.set(fresh.name, fresh)
      if (old !== undefined) await this.retire(old)
    }
    for (const [name, old] of this.byName) {
      if (hosts.has(name)) continue
      this.byName.delete(name)
      result.removed.push(name)
      await this.retire(old)
    }
    this.defaultHost = defaultHost
    if (this.checking) await Promise.all(opened.map(async h => { await this.startLoop(h) }))
    return result
  }

  private async retire (h: UpstreamHost): Promise<void> {
    await this.stopLoop(h.name)
    this.drainingHosts.add(h)
    const p = closeHost(h).catch(() => {}).finally(() => {
      this.draining.delete(p)
      this.drainingHosts.delete(h)
    })
    this.draining.add(p)
  }

  /** Hosts removed by a reload whose pools still drain. */
  get drainingCount (): number {
    return this.drainingHosts.size
  }

  async close (): Promise<void> {
    await this.stopHealthChecks()
    await Promise.all([...this.all().map(closeHost), ...this.draining])
  }

  /** Tear down at once, cutting open streams (used when shutdown's grace period ends). */
  async destroy (): Promise<void> {
    await this.stopHealthChecks()
    await Promise.all([...this.all(), ...this.drainingHosts].map(destroyHost))
  }
}
