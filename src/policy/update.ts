import { checkFieldDecisions } from './check-field-decisions'
import { ROOT_STRUCTS } from './docker-schema'
import { effectivePolicy, type PolicyConfig } from './config'
import { describeDropped, unknownFieldsDenial } from './dropped'
import { decodeGoBody } from './go-json'
import { checkDevices } from './privileges'
import { checkResources, checkRestartPolicy, checkUlimits } from './resources'
import { judgeViolations } from './report'
import { badRequest, refusal, reported, type PolicyContext, type UpdateDecision, type Violation } from './types'

/**
 * Vet a `POST /containers/{id}/update` body (Resources plus RestartPolicy at
 * the top level). The same caps as create, so a container cannot be created
 * small and grown later; nothing is injected, since an absent field means "no
 * change". Devices, CgroupParent, Ulimits and OomKillDisable are accepted but
 * ignored by current daemons (container-endpoints.md §6.4); they are judged
 * anyway, as on create, in case a daemon ever applies them.
 */
export function vetUpdate (raw: string, config: PolicyConfig, ctx: PolicyContext): UpdateDecision {
  const rules = effectivePolicy(config, ctx)
  const decoded = decodeGoBody(raw, ROOT_STRUCTS.update)
  if (!decoded.ok) return badRequest(decoded.rule, decoded.message, decoded.field)
  const { value: body, dropped } = decoded
  const unknown = unknownFieldsDenial(dropped, rules.unknownFields)
  if (unknown !== undefined) return unknown

  const violations: Violation[] = [
    ...checkResources(body, rules.resources, 'update', ''),
    ...checkDevices(body, ''),
    ...checkUlimits(body, rules.ulimitCaps, ''),
    ...checkRestartPolicy(body, ''),
    ...checkFieldDecisions(body, ROOT_STRUCTS.update)
  ]
  const judged = judgeViolations(violations, rules)
  return refusal(judged) ?? { allow: true, body, dropped: dropped.map(describeDropped), ...reported(judged.wouldDeny) }
}
