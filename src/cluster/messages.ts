import type { BreakerEvent } from '../upstream/breaker'
import type { HostHealth } from '../upstream/health'

/**
 * What the primary and its workers tell each other over the cluster's IPC
 * channel (src/cluster/primary.ts, src/cluster/worker-link.ts). Every message
 * carries `dgw`, so Node's own cluster messages and anything else on the
 * channel are told apart.
 */

/**
 * Worker -> primary: count these requests against their keys (the rate
 * limit), answered by RateCounted. A worker sends the counts of one event-loop
 * turn together: one message per turn, not per request.
 */
export interface RateCount { dgw: 'rate', counts: Array<[id: number, key: string, windowMs: number]> }
/** Primary -> worker: each count's total in its window and the window's time left (ms). */
export interface RateCounted { dgw: 'rate', answers: Array<[id: number, current: number, ttl: number]> }

/** Worker -> primary -> every other worker: what a host's circuit breaker learnt (src/upstream/breaker.ts). */
export interface BreakerChanged { dgw: 'breaker', host: string, event: BreakerEvent, reason: string }
/** Health leader -> primary -> every other worker: one host's health after a check. */
export interface HealthChecked { dgw: 'health', host: string, health: HostHealth }
/** Primary -> worker: run the health checks from now on (the leader left, or this is the first worker). */
export interface LeadHealth { dgw: 'lead-health' }

/**
 * Worker -> primary, at start: send me what is known. The primary answers with
 * the last HealthChecked of every host, then Hello, so a new worker serves
 * with the hosts' health and API versions from its first request.
 */
export interface Hello { dgw: 'hello' }

/**
 * Worker -> primary: listening; the banner lines, printed once by the primary,
 * which puts its own `prepared` lines (the secret and certificate it made) in
 * place of the worker's.
 */
export interface Listening { dgw: 'listening', url: string, banner: string[], prepared: string[] }
/** Primary -> worker: re-read certificates, the audit file and the host list (SIGHUP). */
export interface Reload { dgw: 'reload' }
/** Primary -> worker: stop gracefully (`signal`, SIGTERM or SIGINT, came to the primary). */
export interface Shutdown { dgw: 'shutdown', signal: string }

export type ToPrimary = RateCount | BreakerChanged | HealthChecked | Hello | Listening
export type ToWorker = RateCounted | BreakerChanged | HealthChecked | Hello | LeadHealth | Reload | Shutdown

export function isGatewayMessage (m: unknown): m is { dgw: string } {
  return typeof m === 'object' && m !== null && typeof (m as { dgw?: unknown }).dgw === 'string'
}
