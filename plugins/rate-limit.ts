import fp from 'fastify-plugin'
import fastifyRateLimit, { normalizeIP, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type Redis from 'ioredis'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { parseDuration, formatDuration } from '../src/auth/duration'
import { RateLimited } from '../src/errors'
import { sharedRedis } from '../src/redis'
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
 * If Redis is unreachable the limit fails open (requests pass, a warning is
 * logged): losing the counters must not take the gateway down with it, and
 * authentication is enforced regardless.
 */

export interface RateLimitOptions {
  max: number
  timeWindow: string
  redisUrl?: string
  publicPaths: ReadonlySet<string>
  /** The counters of a gateway running several workers without Redis (src/cluster/ipc-rate-store.ts). */
  store?: FastifyRateLimitStoreCtor
}

export function rateLimitOptions (config: Config, publicPaths: ReadonlySet<string>): RateLimitOptions {
  const opts: RateLimitOptions = { max: config.rateLimit.max, timeWindow: config.rateLimit.timeWindow, publicPaths }
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

  let redis: Redis | undefined
  if (opts.redisUrl !== undefined) {
    redis = sharedRedis(opts.redisUrl)
    let lastWarning = 0
    redis.on('error', (err) => {
      if (Date.now() - lastWarning < 30_000) return
      lastWarning = Date.now()
      fastify.log.warn({ err: { message: err.message } }, 'rate limit: redis unreachable; requests are not being counted')
    })
    const client = redis
    fastify.addHook('onClose', async () => { await client.quit().catch(() => { client.disconnect() }) })
    // Connect before the first request: without the offline queue, a request
    // arriving before the connection is up would pass uncounted.
    try {
      await client.connect()
    } catch (err) {
      fastify.log.warn({ err: { message: (err as Error).message } }, 'rate limit: redis unreachable at start; requests are not counted until it answers')
    }
  }

  await fastify.register(fastifyRateLimit, {
    global: false,
    max: opts.max,
    timeWindow: windowMs,
    keyGenerator: rateLimitKey,
    skipOnError: true,
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
    limit.call(fastify, request, reply).then(() => { done() }, done)
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
