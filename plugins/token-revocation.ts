import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { bodyError, hasBody, jsonBodyText } from '../src/docker/body'
import { hasScope } from '../src/auth/scopes'
import { hasExpired, revocationFromBody, RevocationRequestError, revokeAnswer, type RevocationList } from '../src/auth/revocation'
import { BadRequest, Forbidden, StoreUnavailable } from '../src/errors'

/**
 * `POST /tokens/revoke` (scope admin): put a token's jti on the revocation
 * list, shared with the other replicas and the `token revoke` command.
 *
 *   {"jti": "...", "exp": <unix seconds>}   exp optional (default: 366 days from now)
 *   {"token": "eyJ..."}                      jti and exp read from the token
 *
 * 201 with what was stored, 200 when the token has already expired (nothing
 * to store), 400 for a body that names no revocable token, 503 when the
 * store cannot be written (the revocation did not happen: say so).
 */
async function tokenRevocation (fastify: FastifyInstance, opts: { list: RevocationList }): Promise<void> {
  fastify.post('/tokens/revoke', async (request, reply) => {
    const gw = request.gw
    gw.route = 'POST /tokens/revoke'
    if (!hasScope(gw.scopes, 'admin')) {
      gw.reason = 'missing scope admin'
      throw new Forbidden('token lacks the scope "admin" needed for POST /tokens/revoke')
    }
    if (!hasBody(request)) throw new BadRequest('request body is required: {"jti": "...", "exp": <unix seconds>} or {"token": "..."}')
    const text = jsonBodyText(request)
    if (!text.ok) throw bodyError(text)
    let entry
    try {
      entry = revocationFromBody(JSON.parse(text.raw ?? ''))
    } catch (err) {
      if (err instanceof SyntaxError) throw new BadRequest(`request body is not valid JSON: ${err.message}`)
      if (err instanceof RevocationRequestError) throw new BadRequest(err.message)
      throw err
    }
    if (hasExpired(entry, Date.now())) return revokeAnswer(entry, false)
    let stored
    try {
      stored = await opts.list.revoke(entry)
    } catch (err) {
      request.log.error({ err: { message: (err as Error).message }, store: opts.list.store.where }, 'token revocation: cannot write the list')
      throw new StoreUnavailable(`the token was NOT revoked: the revocation list (${opts.list.store.where}) cannot be written; try again`)
    }
    request.log.info({ jti: stored.jti, exp: stored.exp, by: gw.principal }, 'token revoked')
    void reply.code(201)
    return revokeAnswer(stored, true)
  })
}

export default fp(tokenRevocation, { name: 'docker-gateway-token-revocation', fastify: '5.x', dependencies: ['docker-gateway-request-context'] })
