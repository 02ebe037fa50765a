import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify'
import { hasScope } from '../src/auth/scopes'
import type { Scope } from '../src/docker/routes'
import { scopeMissing } from '../src/errors'

/**
 * The scope check, one named onRequest hook for every route that needs a
 * scope: the Docker mirror, the fleet view, /policy/check and /metrics. It
 * runs right after authentication and before the body is read, and stamps
 * the route's label on the audit line. (A hook per route, bound to its scope
 * and label: reading them from request.routeOptions would build that object
 * on every request.)
 */
export function requireScope (scope: Scope, label: string): onRequestHookHandler {
  return function requireScope (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    request.gw.route = label
    if (hasScope(request.gw.scopes, scope)) done()
    else done(scopeMissing(scope, label))
  }
}
