import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { FastifyRequest } from 'fastify'

/**
 * Prometheus metrics (issue 7 §3). Labels are bounded sets only: route
 * templates from the allow-list, methods, status codes, configured host
 * names, policy rule ids and auth failure kinds. Container ids and
 * principals are never labels (unbounded cardinality, and principals are
 * audit data, not telemetry).
 */
export class GatewayMetrics {
  readonly registry = new Registry()
  private readonly requests: Counter<'route' | 'method' | 'status' | 'host'>
  private readonly upstreamLatency: Histogram<'host'>
  private readonly openStreams: Gauge<'host'>
  private readonly rateLimited: Counter
  private readonly policyDenials: Counter<'rule'>
  private readonly authFailures: Counter<'reason'>

  constructor (opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    this.requests = new Counter({ name: 'dgw_requests_total', help: 'Requests by route template, method, status and Docker host', labelNames: ['route', 'method', 'status', 'host'], registers })
    this.upstreamLatency = new Histogram({
      name: 'dgw_upstream_response_seconds',
      help: 'Time from forwarding a request to the daemon\'s response headers, per Docker host',
      labelNames: ['host'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers
    })
    this.openStreams = new Gauge({ name: 'dgw_open_streams', help: 'Streams (logs follow, stats, export, wait, attach, exec) open now, per Docker host', labelNames: ['host'], registers })
    this.rateLimited = new Counter({ name: 'dgw_rate_limited_total', help: 'Requests refused by the rate limit', registers })
    this.policyDenials = new Counter({ name: 'dgw_policy_denials_total', help: 'Request bodies denied by the policy, by rule', labelNames: ['rule'], registers })
    this.authFailures = new Counter({ name: 'dgw_auth_failures_total', help: 'Authentication failures by reason', labelNames: ['reason'], registers })
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'dgw_' })
  }

  /** Called once per request when its response closes. */
  /**
   * The label children in use, by their values: prom-client hashes a labels
   * object on every inc()/observe(), a cost per request; the sets are bounded
   * (see above), so are these maps.
   */
  private readonly requestCounters = new Map<string, { inc: () => void }>()
  private readonly latencyHistograms = new Map<string, { observe: (value: number) => void }>()

  readonly observeRequest = (request: FastifyRequest, status: number): void => {
    const gw = request.gw
    const route = gw.route ?? 'unmatched'
    const host = gw.host ?? ''
    const key = `${route}\n${request.method}\n${status}\n${host}`
    let counter = this.requestCounters.get(key)
    if (counter === undefined) {
      counter = this.requests.labels({ route, method: request.method, status, host })
      this.requestCounters.set(key, counter)
    }
    counter.inc()
    if (status === 429) this.rateLimited.inc()
    const reason = gw.reason
    if (reason === undefined) return
    if (reason.startsWith('policy: ')) {
      this.policyDenials.inc({ rule: reason.slice(8).split(' ', 1)[0] as string })
    } else if (status === 401) {
      // "authentication failed: expired" -> "expired"; a fixed set of kinds.
      const colon = reason.lastIndexOf(': ')
      this.authFailures.inc({ reason: colon === -1 ? reason : reason.slice(colon + 2) })
    }
  }

  upstreamResponded (host: string, seconds: number): void {
    let histogram = this.latencyHistograms.get(host)
    if (histogram === undefined) {
      histogram = this.upstreamLatency.labels({ host })
      this.latencyHistograms.set(host, histogram)
    }
    histogram.observe(seconds)
  }

  streamOpened (host: string): void {
    this.openStreams.inc({ host })
  }

  streamClosed (host: string): void {
    this.openStreams.dec({ host })
  }
}
