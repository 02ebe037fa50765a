import { Pool } from 'undici'
import { parseUpstream, type UpstreamTarget } from './target'
import type { Config, HostConfig } from '../config/schema'

/**
 * One Docker daemon behind the gateway, with the connection pools that reach it.
 *
 * Two pools per daemon, because short calls and long-lived streams must never
 * wait in one bounded queue: with 200 `logs?follow=1` streams holding
 * connections, a bounded shared pool would queue a list call forever. The
 * stream pool is unbounded (one connection per open stream, closed when the
 * stream ends); the short pool is bounded and keeps connections alive.
 */
export interface UpstreamHost {
  readonly name: string
  readonly target: UpstreamTarget
  readonly short: Pool
  readonly stream: Pool
}

export interface PoolOptions {
  connectTimeout: number
  headersTimeout: number
  bodyTimeout: number
  connections: number
}

export function poolOptionsFrom (config: Config): PoolOptions {
  return {
    connectTimeout: config.upstreamTimeouts.connect,
    headersTimeout: config.upstreamTimeouts.headers,
    bodyTimeout: config.upstreamTimeouts.body,
    connections: config.upstreamConnections
  }
}

export function openHost (name: string, host: HostConfig, opts: PoolOptions): UpstreamHost {
  const target = parseUpstream(host.url, { ca: host.ca, cert: host.cert, key: host.key })
  const connect = {
    timeout: opts.connectTimeout,
    ...(target.socketPath !== undefined ? { socketPath: target.socketPath } : {}),
    ...(target.tls ?? {})
  }
  const short = new Pool(target.origin, {
    connections: opts.connections,
    headersTimeout: opts.headersTimeout,
    bodyTimeout: opts.bodyTimeout,
    connect
  })
  const stream = new Pool(target.origin, {
    connections: null,
    headersTimeout: opts.headersTimeout,
    // Follow/stream responses may be silent for hours; only the client's
    // disconnect or the daemon's end closes them.
    bodyTimeout: 0,
    // A finished stream's socket is not worth keeping: the next stream is
    // rare compared to short calls, and idle sockets cost daemon goroutines.
    keepAliveTimeout: 1000,
    connect
  })
  return { name, target, short, stream }
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

export class HostRegistry {
  private readonly byName = new Map<string, UpstreamHost>()
  defaultHost: string

  constructor (config: Config) {
    const { hosts, defaultHost } = hostConfigsFrom(config)
    const opts = poolOptionsFrom(config)
    for (const [name, h] of hosts) this.byName.set(name, openHost(name, h, opts))
    this.defaultHost = defaultHost
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

  async close (): Promise<void> {
    await Promise.all(this.all().flatMap(h => [h.short.close(), h.stream.close()]))
  }

  /** Tear down at once, cutting open streams (used when shutdown's grace period ends). */
  async destroy (): Promise<void> {
    await Promise.all(this.all().flatMap(h => [h.short.destroy(), h.stream.destroy()]))
  }
}
