import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { bodyError, checkBody } from '../src/docker/body'
import { vetCreate } from '../src/policy'
import { policyContext } from '../src/docker/vet'
import { hasScope } from '../src/auth/scopes'
import { routes } from '../src/docker/routes'
import type { Config } from '../src/config/schema'
import { Forbidden } from '../src/errors'

/**
 * `POST /policy/check`: explain a decision. Takes a create body and answers
 * what the policy decides for the caller, without creating anything, so a
 * user can see why a request is denied and what would be forwarded.
 * Containers the body joins are listed; their ownership is checked at create
 * time against the daemon. `decision` is allow, deny or would-deny (report
 * mode: forwarded, audited with the rules in `wouldDeny`).
 */
const createRoute = routes.find(r => r.id === 'container.create')

async function policyCheck (fastify: FastifyInstance, opts: { config: Config }): Promise<void> {
  const { config } = opts
  fastify.post('/policy/check', async (request) => {
    const gw = request.gw
    gw.route = 'POST /policy/check'
    if (!hasScope(gw.scopes, 'containers:write')) {
      gw.reason = 'missing scope containers:write'
      throw new Forbidden('token lacks the scope "containers:write" needed for POST /policy/check')
    }
    if (createRoute === undefined) throw new Error('create route missing from the allow-list')
    const body = checkBody(createRoute, request)
    if (!body.ok) throw bodyError(body)
    const d = vetCreate(body.raw ?? '', config.policy, policyContext(gw, config.ownership))
    if (!d.allow) {
      return {
        allowed: false, decision: 'deny', status: d.status, rule: d.rule, field: d.field, message: d.message, violations: d.violations ?? [], wouldDeny: d.wouldDeny ?? []
      }
    }
    // In report mode (policy.mode, policy.reportRules) a body only report-only rules deny is forwarded as shown.
    return {
      allowed: true,
      decision: d.wouldDeny !== undefined ? 'would-deny' : 'allow',
      wouldDeny: d.wouldDeny ?? [],
      body: d.body,
      containerRefs: d.containerRefs.map(r => ({ field: r.field, ref: r.ref })),
      dropped: d.dropped
    }
  })
}

export default fp(policyCheck, { name: 'docker-gateway-policy-check', fastify: '5.x', dependencies: ['docker-gateway-request-context'] })
