import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import type { Config } from './config/schema'
import { HostRegistry } from './upstream/hosts'
import requestContext from '../plugins/request-context'
import dockerErrors from '../plugins/docker-errors'
import health from '../plugins/health'
import authenticate from '../plugins/authenticate'
import dockerMirror from '../plugins/docker-mirror'
import fleet from '../plugins/fleet'
import hostsReload from '../plugins/hosts-reload'

export interface BuildOptions {
  config: Config
  /** HS256 secret for bearer tokens. */
  jwtSecret: string
  /** TLS material; absent means plain HTTP (GATEWAY_TLS=off). */
  https?: HttpsServerOptions
  logger?: FastifyServerOptions['logger']
  /** Re-reads the configuration on SIGHUP (host list reload); default loadConfig(process.env). */
  reloadConfig?: () => Config
}

/** Paths outside the Docker namespace that answer without credentials. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz'])

/**
 * Assemble the gateway. The registration order below is the security model:
 * hooks run in this order for every request.
 *
 *   TLS (server) -> request context -> authentication -> [rate limit]
 *   -> mirror route: allow-list -> scope -> validation -> policy -> host -> upstream
 */
export async function buildApp (opts: BuildOptions): Promise<FastifyInstance> {
  const { config } = opts
  const serverOptions: FastifyServerOptions & { https?: HttpsServerOptions } = {
    logger: opts.logger ?? {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' }
    },
    // One line per request is written by request-context, with the audit fields.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    return503OnClosing: true,
    // Docker clients keep connections alive between calls.
    keepAliveTimeout: 65_000,
    trustProxy: false
  }
  if (opts.https !== undefined) serverOptions.https = opts.https
  const app = Fastify(serverOptions) as unknown as FastifyInstance

  const hosts = new HostRegistry(config)
  app.addHook('onClose', async () => { await hosts.close() })

  await app.register(requestContext)
  await app.register(dockerErrors, { bodyLimit: config.bodyLimit })
  await app.register(health, { hosts })
  await app.register(authenticate, { secret: opts.jwtSecret, publicPaths: PUBLIC_PATHS })
  await app.register(fleet, { config, hosts })
  await app.register(hostsReload, { hosts, load: opts.reloadConfig })
  await app.register(dockerMirror, { config, hosts })
  return app
}
