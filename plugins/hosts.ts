import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../src/config/load'
import type { Config } from '../src/config/schema'
import type { HostRegistry } from '../src/upstream/hosts'

/**
 * The Docker hosts (src/upstream/hosts.ts) over the app's life: their
 * background health checks start once the server is ready and stop before it
 * closes, and `app.reloadHosts()` re-reads the host list without a restart
 * (the CLI calls it on SIGHUP, the Unix convention for "re-read your
 * configuration", as nginx and haproxy do; signals are the CLI's): the config
 * file is read and validated again; new hosts are opened and checked,
 * removed ones stop taking calls at once and their pools drain. Only the
 * host list (`hosts`, `upstream`, `defaultHost`, `healthCheck`,
 * `circuitBreaker`, pool sizes and timeouts for newly opened hosts) is
 * reloaded; listen address, TLS and secrets need a restart.
 *
 * A file that no longer validates is logged and ignored: the running host
 * list stays in force rather than a typo emptying the fleet.
 */

export interface HostsOptions {
  hosts: HostRegistry
  /** Reads the configuration again; default: loadConfig(process.env). */
  load?: () => Config
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Re-read the configuration and apply its host list (the CLI calls it on SIGHUP). */
    reloadHosts: () => Promise<void>
  }
}

async function hosts (fastify: FastifyInstance, opts: HostsOptions): Promise<void> {
  const load = opts.load ?? (() => loadConfig(process.env))
  fastify.addHook('onReady', async () => { await opts.hosts.startHealthChecks() })
  // The registry's own close (app.ts) stops the checks too; stopping here
  // first keeps a check from starting against pools being closed.
  fastify.addHook('preClose', async () => { await opts.hosts.stopHealthChecks() })
  // Reloads run one at a time: two quick SIGHUPs must not open a host twice.
  let chain: Promise<void> = Promise.resolve()

  async function reloadOnce (): Promise<void> {
    try {
      const result = await opts.hosts.reload(load())
      fastify.log.info(result, 'host list reloaded')
    } catch (err) {
      fastify.log.error({ err }, 'host list reload failed; keeping the current hosts')
    }
  }

  const reloadHosts = async (): Promise<void> => {
    chain = chain.then(reloadOnce, reloadOnce)
    await chain
  }
  fastify.decorate('reloadHosts', reloadHosts)
}

export default fp(hosts, { name: 'docker-gateway-hosts', fastify: '5.x' })
