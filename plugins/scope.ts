import type { FastifyReply, FastifyRequest, preParsingHookHandler, RequestPayload } from 'fastify'
import { hasScope } from '../src/auth/scopes'
import type { Scope } from '../src/docker/routes'
import { scopeMissing } from '../src/errors'
import { insufficientScopeHeader } from '../src/auth/token-errors'

/**
 * The scope check, one named hook for every route that needs a scope: the
 * Docker mirror, the fleet view, /policy/check and /metrics. A preParsing
 * hook: after authentication's own preParsing refusal (an anonymous caller
 * gets its 401, not a 403) and before the body is read. It stamps the route's
 * label on the audit line. (A hook per route, bound to its scope and label:
 * reading them from request.routeOptions would build that object on every
 * request.)
 */
export function requireScope (scope: Scope, label: string): preParsingHookHandler {
  return function requireScope (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload, done: (err: Error | null, payload?: RequestPayload) => void): void {
    request.gw.route = label
    if (hasScope(request.gw.scopes, scope)) { done(null, payload); return }
    // RFC 6750 §3.1: a 403 for want of a scope names it in the bearer challenge.
    if (request.gw.authMethod === 'jwt') void reply.header('www-authenticate', insufficientScopeHeader(scope))
    done(scopeMissing(scope, label))
  }
}
