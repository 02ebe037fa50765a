// Calls shared by the revocation tests: revoke through the route, and ask a
// gateway whether it still lets a token in.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { waitFor } from '../wait'
import { claims, hs256 } from './tokens'

/** A token with its own random jti (sub and scope as given). */
export function tokenWithJti (over: Record<string, unknown> = {}): { token: string, jti: string } {
  const jti = randomBytes(12).toString('base64url')
  return { token: hs256(claims({ jti, ...over })), jti }
}

export async function revokeRoute (app: FastifyInstance, adminToken: string, body: unknown): Promise<{ status: number, json: Record<string, any> }> {
  const res = await app.inject({
    method: 'POST',
    url: '/tokens/revoke',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    payload: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: res.statusCode, json: res.json() }
}

/**
 * The status a token gets on a path the gateway answers itself once the
 * caller is authenticated (404 page not found), 401 when it is refused.
 */
export async function statusOf (app: FastifyInstance, token: string): Promise<number> {
  const res = await app.inject({ url: '/not-a-docker-path', headers: { authorization: `Bearer ${token}` } })
  return res.statusCode
}

/** How long until `app` refuses `token` (rejects after timeoutMs). */
export async function msUntilRefused (app: FastifyInstance, token: string, timeoutMs = 5000): Promise<number> {
  const start = Date.now()
  await waitFor(async () => (await statusOf(app, token)) === 401, timeoutMs)
  return Date.now() - start
}
