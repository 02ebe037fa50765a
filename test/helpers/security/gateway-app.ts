// A real gateway (buildApp) on 127.0.0.1 whose audit lines and log lines the
// test reads, for the limit tests of issue 10. Not a test file.
import { PassThrough } from 'node:stream'
import { request, type Dispatcher } from 'undici'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../../src/app'
import { loadConfig } from '../../../src/config/load'
import { mintToken, TEST_SECRET } from '../gateway'

export interface WatchedGateway {
  app: FastifyInstance
  port: number
  url: string
  /** audit lines so far, parsed */
  audit: () => Array<Record<string, unknown>>
  /** main log lines (warn and above) so far, parsed */
  log: () => Array<Record<string, unknown>>
  token: (sub: string, scope?: string) => string
}

function collect (): { stream: PassThrough, lines: Array<Record<string, unknown>> } {
  const stream = new PassThrough()
  const lines: Array<Record<string, unknown>> = []
  let rest = ''
  stream.on('data', (b: Buffer) => {
    rest += b.toString('utf8')
    let nl
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl)
      rest = rest.slice(nl + 1)
      if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
    }
  })
  return { stream, lines }
}

export const ALL_SCOPES = 'containers:read containers:write containers:export containers:exec'

export async function startWatchedGateway (t: { teardown: (fn: () => unknown) => void }, env: Record<string, string>): Promise<WatchedGateway> {
  const config = loadConfig({ GATEWAY_TLS: 'off', GATEWAY_LISTEN: '127.0.0.1:0', ...env })
  const audit = collect()
  const log = collect()
  const app = await buildApp({ config, jwtSecret: TEST_SECRET, auditStream: audit.stream, logger: { level: 'warn', stream: log.stream } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    app,
    port,
    url: `http://127.0.0.1:${port}`,
    audit: () => audit.lines,
    log: () => log.lines,
    token: (sub, scope = ALL_SCOPES) => mintToken(TEST_SECRET, { sub, scope })
  }
}

/**
 * A caller of the gateway as one of several principals (by name in
 * `tokens`), through `agent`: a JSON body is sent as application/json.
 */
export function callerOf<P extends string> (url: string, agent: Dispatcher, tokens: Record<P, string>) {
  return async (who: P, method: Dispatcher.HttpMethod, path: string, json?: unknown): Promise<Dispatcher.ResponseData> => await request(url + path, {
    method,
    dispatcher: agent,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: json !== undefined ? JSON.stringify(json) : undefined
  })
}
