import fp from 'fastify-plugin'
import fastifyRateLimit, { normalizeIP, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type Redis from 'ioredis'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { parseDuration, formatDuration } from '../src/auth/duration'
import { RateLimited, redisUnavailable } from '../src/errors'
import { sharedRedis } from '../src/redis'
import { redisDownMode, uncountedRequest, type RedisDownMode } from '../src/redis-down'
import type { Config } from '../src/config/schema'

/**
 * Per-principal rate limit (@fastify/rate-limit). It runs as an onRequest
 * hook right after authentication identified the caller and before the 401
 * of a caller it could not identify is sent (plugins/auth.ts), so
 * every request counts once:
 *
 * - under its principal (`sub`, or the mapped client certificate), whatever
 *   address it comes from;
 * - without one (no token, a bad token), under its source IP (IPv6 per /64),
 *   so a flood of bad tokens turns into 429s for that address.
 *
 * A stream (logs?follow, stats, export) counts once, when it starts. The
 * health probes are not limited: an orchestrator polling them must not
 * take a replica out of service.
 *
 * With `redisUrl` the counters live in Redis and every replica shares them.
 * While Redis does not answer (refused, or no answer within the client's
 * 500 ms), `redisDown` decides (src/redis-down.ts): `open` lets requests pass
 * uncounted, `closed` answers them 503; either way a warning is logged, at
 * most every 30 s. Counting resumes by itself when Redis answers again.
 */

export interface RateLimitOptions {
  max: number
  timeWindow: string
  redisUrl?: string
  /** What a request gets while Redis does not answer; default open. */
  redisDown?: RedisDownMode
  publicPaths: ReadonlySet<string>
  /** The counters of a gateway running several workers without Redis (src/cluster/ipc-rate-store.ts). */
  store?: FastifyRateLimitStoreCtor
}

export function rateLimitOptions (config: Config, publicPaths: ReadonlySet<string>): RateLimitOptions {
  const opts: RateLimitOptions = { max: config.rateLimit.max, timeWindow: config.rateLimit.timeWindow, redisDown: redisDownMode(config), publicPaths }
  if (config.redisUrl !== undefined) opts.redisUrl = config.redisUrl
  return opts
}

/** The counter key: the principal, or the source address before authentication. */
export function rateLimitKey (request: FastifyRequest): string {
  const principal = request.gw.principal
  return principal !== undefined ? `p:${principal}` : `ip:${normalizeIP(request.ip)}`
}

async function rateLimit (fastify: FastifyInstance, opts: RateLimitOptions): Promise<void> {
  if (opts.max === 0) {
    fastify.log.warn('rate limit is off (rateLimit.max is 0)')
    return
  }
  const windowMs = parseDuration(opts.timeWindow)
  if (windowMs === undefined) throw new Error(`rateLimit.timeWindow: not a duration: ${opts.timeWindow}`)

  const mode = opts.redisDown ?? 'open'
  const consequence = uncountedRequest(mode) === undefined ? 'requests are not being counted' : 'requests are refused (redisDown: closed)'
  let lastWarning = 0
  // Throttled: a Redis that is down fails every request and every reconnect.
  const warnDown = (err: Error): void => {
    if (Date.now() - lastWarning < 30_000) return
    lastWarning = Date.now()
    fastify.log.warn({ err: { message: err.message } }, `rate limit: redis unreachable; ${consequence} until it answers`)
  }
  let redis: Redis | undefined
  if (opts.redisUrl !== undefined) {
    redis = sharedRedis(opts.redisUrl)
    redis.on('error', warnDown)
    const client = redis
    fastify.addHook('onClose', async () => { await client.quit().catch(() => { client.disconnect() }) })
    // Connect before the first request: without the offline queue, a request
    // arriving before the connection is up would find no counter.
    try {
      await client.connect()
    } catch (err) {
      warnDown(err as Error)
    }
  }

  await fastify.register(fastifyRateLimit, {
    global: false,
    max: opts.max,
    timeWindow: windowMs,
    keyGenerator: rateLimitKey,
    // Store failures come to the hook below, which applies redisDown.
    skipOnError: false,
    ...(redis !== undefined ? { redis, nameSpace: 'docker-gateway:rate:' } : {}),
    ...(opts.store !== undefined ? { store: opts.store } : {}),
    onExceeded: (request: FastifyRequest) => {
      request.gw.decision = 'deny'
    },
    errorResponseBuilder: (request: FastifyRequest, context: { max: number, after: string }) => {
      const who = request.gw.principal !== undefined ? `principal "${request.gw.principal}"` : `address ${request.ip}`
      return new RateLimited(`rate limit exceeded for ${who}: ${context.max} requests per ${formatDuration(windowMs)}; retry in ${context.after}`)
    }
  })

  const limit = fastify.rateLimit()
  // Callback style around the limiter's own promise: one promise per request, not two.
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.gw.authMethod === 'none' && isPublic(request, opts.publicPaths)) { done(); return }
    limit.call(fastify, request, reply).then(() => { done() }, (err: Error) => {
      // The limiter's own refusal is a RateLimited; anything else is the store failing.
      if (redis === undefined || err instanceof RateLimited) { done(err); return }
      warnDown(err)
      const refusal = uncountedRequest(mode)
      done(refusal === undefined ? undefined : redisUnavailable('rate limit', refusal))
    })
  })
}

function isPublic (request: FastifyRequest, publicPaths: ReadonlySet<string>): boolean {
  const q = request.url.indexOf('?')
  return publicPaths.has(q === -1 ? request.url : request.url.slice(0, q))
}

export default fp(rateLimit, {
  name: 'docker-gateway-rate-limit',
  fastify: '5.x',
  dependencies: ['docker-gateway-audit', 'docker-gateway-auth']
})
