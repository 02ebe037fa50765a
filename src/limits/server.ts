import type { Config } from '../config/schema'

type Limits = Config['limits']

/** Hard ceiling for the derived default of limits.maxConnections. */
export const MAX_CONNECTIONS_DEFAULT_CEILING = 4096

/**
 * limits.maxConnections when unset: a third of the open-file limit (a
 * client connection of a stream holds a daemon socket too, and the process
 * needs descriptors of its own), at most 4096, at least 16. The limit is
 * read from /proc/self/limits (Linux); elsewhere the ceiling applies.
 */
export function defaultMaxConnections (openFileLimit: number | undefined): number {
  if (openFileLimit === undefined || !Number.isFinite(openFileLimit)) return MAX_CONNECTIONS_DEFAULT_CEILING
  return Math.max(16, Math.min(MAX_CONNECTIONS_DEFAULT_CEILING, Math.floor(openFileLimit / 3)))
}

/** The soft "Max open files" of /proc/self/limits text; undefined when absent or unlimited. */
export function parseOpenFileLimit (procLimits: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(procLimits)
  if (m === null || m[1] === 'unlimited') return undefined
  return Number(m[1])
}

/**
 * How often Node checks connections against headersTimeout/requestTimeout.
 * Node's default is 30 s, which would make a 10 s header deadline a 40 s one
 * in the worst case (lib/_http_server.js checkConnections runs on this
 * interval): a tenth of the deadline, between 250 ms and 1 s.
 */
export function connectionsCheckingInterval (headersTimeoutMs: number): number {
  return Math.max(250, Math.min(1000, Math.floor(headersTimeoutMs / 10)))
}

export interface ServerTimeouts {
  /** Passed to http.createServer / https.createServer (fastify's `http` option, or merged into `https`). */
  node: { headersTimeout: number, connectionsCheckingInterval: number }
  /** fastify's own options, which it sets on the server after creating it. */
  requestTimeout: number
  keepAliveTimeout: number
  /**
   * HTTPS only: the TLS handshake gets the same deadline. Node's HTTP parser (and so
   * headersTimeout) starts after the handshake, and tls.Server's own default is 120 s.
   */
  tlsHandshakeTimeout: number
}

/** The server options that carry the pre-authentication deadlines. */
export function serverTimeouts (limits: Limits): ServerTimeouts {
  return {
    node: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: connectionsCheckingInterval(limits.headersTimeoutMs) },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    tlsHandshakeTimeout: limits.headersTimeoutMs
  }
}
