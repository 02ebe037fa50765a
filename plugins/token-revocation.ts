import type { FastifyInstance } from 'fastify'
import { bodyError, hasBody, jsonBodyText } from '../src/docker/body'
import { hasExpired, revocationFromBody, RevocationRequestError, revokeAnswer, type RevocationList } from '../src/auth/revocation'
import { BodyInvalid, StoreUnavailable } from '../src/errors'
import { rawBodyParser } from './docker'
import { requireScope } from './auth'

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
  rawBodyParser(fastify, 64 * 1024)
  fastify.post('/tokens/revoke', {
    schema: { tags: ['gateway'], operationId: 'tokens.revoke', summary: 'Put a token on the revocation list: {"jti", "exp"?} or {"token"}', security: [{ bearer: ['admin'] }, { mutualTLS: [] }] },
    preParsing: requireScope('admin', 'POST /tokens/revoke')
  }, async (request, reply) => {
    const gw = request.gw
    if (!hasBody(request)) throw new BodyInvalid('request body is required: {"jti": "...", "exp": <unix seconds>} or {"token": "..."}')
    const text = jsonBodyText(request)
    if (!text.ok) throw bodyError(text)
    let entry
    try {
      entry = revocationFromBody(JSON.parse(text.raw ?? ''))
    } catch (err) {
      if (err instanceof SyntaxError) throw new BodyInvalid(`request body is not valid JSON: ${err.message}`)
      if (err instanceof RevocationRequestError) throw new BodyInvalid(err.message)
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

export default tokenRevocation
