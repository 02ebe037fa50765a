import type { FastifyInstance } from 'fastify'
import type { HostRegistry } from '../src/upstream/hosts'
import type { WorkerLink } from '../src/cluster/worker-link'

/**
 * One worker of a gateway running several (`workers`, src/cluster): its hosts'
 * news is shared with the other workers through the primary.
 *
 * - Circuit breakers: every worker's breaker for a host hears of the others'
 *   failures, recoveries and trips, so a failing daemon costs
 *   `failureThreshold` consecutive failed calls for the whole gateway, as with
 *   one process, not that many per worker; a success after failures is news
 *   too, a success per call is not (no message per request).
 * - Health checks: one worker, the leader, checks each daemon every
 *   `intervalMs`; the others take its results. A daemon sees one check per
 *   interval whatever the number of workers, and every worker shows the same
 *   state. When the leader exits, the primary names another.
 * - A worker starting asks for what is known first (Hello), so it serves with
 *   the hosts' health and API versions from its first request.
 */

export interface ClusterOptions {
  link: WorkerLink
  hosts: HostRegistry
  /** Runs the health checks (the first worker) or takes the leader's results. */
  leader: boolean
  /** How long a starting worker waits for the primary's Hello. */
  helloTimeoutMs?: number
}

async function cluster (fastify: FastifyInstance, opts: ClusterOptions): Promise<void> {
  const { link, hosts } = opts
  hosts.shareWith({
    breakerChanged: (host, event, reason) => { link.send({ dgw: 'breaker', host, event, reason }) },
    healthChecked: (host, health) => { link.send({ dgw: 'health', host, health }) }
  }, { follow: !opts.leader })
  link.on('breaker', (m) => { hosts.mirrorBreaker(m.host, m.event, m.reason) })
  link.on('health', (m) => { hosts.mirrorHealth(m.host, m.health) })
  link.on('lead-health', () => {
    hosts.leadHealthChecks().then(() => { fastify.log.info('this worker runs the health checks now') }, (err: unknown) => { fastify.log.error({ err }, 'health checks') })
  })
  if (opts.leader) return
  const hello = new Promise<void>((resolve) => {
    link.on('hello', () => { resolve() })
    const timer = setTimeout(resolve, opts.helloTimeoutMs ?? 5000)
    timer.unref()
  })
  link.send({ dgw: 'hello' })
  await hello
}

export default cluster
