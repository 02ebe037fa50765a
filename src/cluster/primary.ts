import cluster, { type Worker } from 'node:cluster'
import { isGatewayMessage, type HealthChecked, type Listening, type ToPrimary, type ToWorker } from './messages'
import { SharedRateCounts } from './shared-rate-counts'

/**
 * The primary of a gateway running several workers (`workers`, node:cluster).
 * It serves no request itself; it
 *
 * - forks the workers, the first as the health leader (plugins/cluster.ts),
 *   the others once the first listens, and prints the banner once, when all
 *   listen (the CLI made the first-start secret, certificate and admin token
 *   before, once);
 * - keeps the shared rate-limit counters when there is no Redis, and relays
 *   breaker and health news between workers, keeping the last health of each
 *   host for workers that start later;
 * - passes SIGHUP on as a reload, and SIGTERM/SIGINT as a graceful shutdown,
 *   to every worker, and exits when they have (each worker has the
 *   single-process deadlines; the primary adds a margin);
 * - forks a new worker when one dies, and names a new health leader when the
 *   leader did. A worker that dies before it ever listened (a port in use, a
 *   bad file) stops the start: forking it again would fail the same way.
 *
 * Workers ignore SIGTERM and SIGINT themselves and wait for the primary's
 * word, so a Ctrl-C (sent to the whole process group) or a service manager
 * signalling every process is one orderly shutdown, not a second signal that
 * cuts streams; a worker whose primary is gone shuts down by itself.
 */

export interface PrimaryOptions {
  count: number
  /** The primary's lines about the secret and certificate (it made them, on a first start). */
  prepared: string[]
  /** The first-start admin token's lines, or none. */
  adminToken: string[]
  err: (text: string) => void
  /** How long to wait for the workers after a shutdown signal (ms). */
  deadlineMs: number
  /** Set for every worker: GATEWAY_WORKER_ROLE is added. */
  env: NodeJS.ProcessEnv
}

export const WORKER_ROLE_ENV = 'GATEWAY_WORKER_ROLE'

/** Resolves once every worker listens, with the first one's Listening (its url). */
export async function runPrimary (opts: PrimaryOptions): Promise<Listening> {
  const counts = new SharedRateCounts()
  const lastHealth = new Map<string, HealthChecked>()
  let banner: Listening | undefined
  let leader: Worker | undefined
  let stopping = false

  const broadcast = (msg: ToWorker, except?: Worker): void => {
    for (const w of Object.values(cluster.workers ?? {})) {
      if (w !== undefined && w !== except && w.isConnected()) w.send(msg)
    }
  }

  const onMessage = (worker: Worker, msg: ToPrimary): void => {
    switch (msg.dgw) {
      case 'rate':
        worker.send(counts.count(msg))
        return
      case 'breaker':
        broadcast(msg, worker)
        return
      case 'health':
        lastHealth.set(msg.host, msg)
        broadcast(msg, worker)
        return
      case 'hello':
        for (const h of lastHealth.values()) worker.send(h)
        worker.send({ dgw: 'hello' })
        return
      case 'listening':
        banner ??= msg
    }
  }

  const fork = (role: 'leader' | 'follower'): Worker => {
    const w = cluster.fork({ ...opts.env, [WORKER_ROLE_ENV]: role })
    w.on('message', (msg: unknown) => { if (isGatewayMessage(msg)) onMessage(w, msg as ToPrimary) })
    if (role === 'leader') leader = w
    return w
  }

  const waitListening = async (workers: Worker[]): Promise<void> => {
    await Promise.all(workers.map(async w => {
      await new Promise<void>((resolve, reject) => {
        const check = (msg: unknown): void => {
          if (isGatewayMessage(msg) && msg.dgw === 'listening') { w.off('exit', failed); resolve() }
        }
        const failed = (code: number | null, signal: string | null): void => {
          reject(new Error(`worker ${w.process.pid ?? '?'} exited (${signal ?? code ?? '?'}) before listening`))
        }
        w.on('message', check)
        w.once('exit', failed)
      })
    }))
  }

  // A worker's own errors go to the shared stderr; the start fails as a single process's would.
  const first = fork('leader')
  try {
    await waitListening([first])
    const rest = Array.from({ length: opts.count - 1 }, () => fork('follower'))
    await waitListening(rest)
  } catch (err) {
    stopping = true
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL')
    throw err
  }

  const pids = Object.values(cluster.workers ?? {}).map(w => w?.process.pid).join(', ')
  opts.err(bannerOf(banner as Listening, opts, `${opts.count} workers (pids ${pids}), primary pid ${process.pid}`)
    .map(l => `docker-gateway: ${l}\n`).join(''))

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    process.stderr.write(`docker-gateway: worker ${worker.process.pid ?? '?'} exited (${signal ?? code}); starting another\n`)
    if (worker === leader) {
      // Another running worker takes the health checks over at once; the new one follows.
      const next = Object.values(cluster.workers ?? {}).find(w => w !== undefined && w.isConnected())
      leader = next
      next?.send({ dgw: 'lead-health' } satisfies ToWorker)
      fork(next === undefined ? 'leader' : 'follower')
    } else {
      fork('follower')
    }
  })

  process.on('SIGHUP', () => { broadcast({ dgw: 'reload' }) })
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    process.stderr.write(`docker-gateway: ${signal}: stopping ${Object.keys(cluster.workers ?? {}).length} workers\n`)
    broadcast({ dgw: 'shutdown', signal })
    const deadline = setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL')
      process.exit(1)
    }, opts.deadlineMs)
    deadline.unref()
    const done = (): void => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0)
    }
    cluster.on('exit', done)
    done()
  }
  process.on('SIGTERM', () => { shutdown('SIGTERM') })
  process.on('SIGINT', () => { shutdown('SIGINT') })
  return banner as Listening
}

/** The first worker's banner with the primary's own lines about what it made, and the workers. */
export function bannerOf (worker: Listening, opts: Pick<PrimaryOptions, 'prepared' | 'adminToken'>, workers: string): string[] {
  const at = worker.banner.findIndex(l => worker.prepared.includes(l))
  const rest = worker.banner.filter(l => !worker.prepared.includes(l))
  const insertAt = at === -1 ? rest.length : at
  return [...rest.slice(0, insertAt), workers, ...opts.prepared, ...opts.adminToken, ...rest.slice(insertAt)]
}
