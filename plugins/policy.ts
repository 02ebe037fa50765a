import type { FastifyInstance } from 'fastify'
import { bodyError, checkBody } from '../src/docker/body'
import { vetCreate } from '../src/policy'
import { policyContext } from '../src/docker/vet'
import { routes } from '../src/docker/routes'
import type { Config } from '../src/config/schema'
import { rawBodyParser } from './docker'
import { requireScope } from './auth'

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
  rawBodyParser(fastify, config.bodyLimit)
  fastify.post('/policy/check', {
    schema: { tags: ['gateway'], operationId: 'policy.check', summary: 'What the policy decides for a create body, without creating anything', security: [{ bearer: ['containers:write'] }, { mutualTLS: [] }] },
    preParsing: requireScope('containers:write', 'POST /policy/check')
  }, async (request) => {
    const gw = request.gw
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

export default policyCheck
