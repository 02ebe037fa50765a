import { createSigner } from 'fast-jwt'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app'
import { loadConfig } from '../../src/config/load'
import type { Config } from '../../src/config/schema'

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef'

export interface TestGateway {
  app: FastifyInstance
  /** http://127.0.0.1:PORT */
  url: string
  port: number
  config: Config
  /** Mint an HS256 token for this gateway. */
  token: (claims?: { sub?: string, scope?: string, hosts?: string[], ttlSec?: number }) => string
}

export function mintToken (secret: string, claims: { sub?: string, scope?: string, hosts?: string[], ttlSec?: number } = {}): string {
  const sign = createSigner({ key: secret, algorithm: 'HS256' })
  const payload: Record<string, unknown> = {
    sub: claims.sub ?? 'tester',
    scope: claims.scope ?? 'admin',
    exp: Math.floor(Date.now() / 1000) + (claims.ttlSec ?? 3600)
  }
  if (claims.hosts !== undefined) payload.hosts = claims.hosts
  return sign(payload)
}

/** Start a gateway on 127.0.0.1:0 in front of `upstream`, closed by the test's teardown. */
export async function startGateway (t: { teardown: (fn: () => unknown) => void }, env: Record<string, string> = {}): Promise<TestGateway> {
  const config = loadConfig({ GATEWAY_TLS: 'off', GATEWAY_LOG_LEVEL: 'silent', GATEWAY_LISTEN: '127.0.0.1:0', ...env })
  const app = await buildApp({ config, jwtSecret: TEST_SECRET })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { app, url: `http://127.0.0.1:${port}`, port, config, token: (c) => mintToken(TEST_SECRET, c) }
}
