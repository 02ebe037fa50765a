import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../src/config/load'
import type { Config } from '../src/config/schema'
import type { HostRegistry } from '../src/upstream/hosts'

/**
 * Reload the host list without a restart on SIGHUP (the Unix convention
 * for "re-read your configuration", as nginx and haproxy do): the config
 * file is read and validated again; new hosts are opened and checked,
 * removed ones stop taking calls at once and their pools drain. Only the
 * host list (`hosts`, `upstream`, `defaultHost`, `healthCheck`,
 * `circuitBreaker`, pool sizes and timeouts for newly opened hosts) is
 * reloaded; listen address, TLS and secrets need a restart.
 *
 * A file that no longer validates is logged and ignored: the running host
 * list stays in force rather than a typo emptying the fleet.
 */

export interface HostsReloadOptions {
  hosts: HostRegistry
  /** Reads the configuration again; default: loadConfig(process.env). */
  load?: () => Config
  signal?: NodeJS.Signals
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Re-read the configuration and apply its host list (what SIGHUP does). */
    reloadHosts: () => Promise<void>
  }
}

async function hostsReload (fastify: FastifyInstance, opts: HostsReloadOptions): Promise<void> {
  const load = opts.load ?? (() => loadConfig(process.env))
  const signal = opts.signal ?? 'SIGHUP'
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

  const onSignal = (): void => { void reloadHosts() }
  process.on(signal, onSignal)
  fastify.addHook('onClose', async () => { process.removeListener(signal, onSignal) })
}

export default fp(hostsReload, { name: 'docker-gateway-hosts-reload', fastify: '5.x' })
