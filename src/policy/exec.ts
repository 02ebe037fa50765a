import { boolAt, listAt, strAt } from './body'
import { effectivePolicy, type PolicyConfig } from './config'
import { checkFieldDecisions } from './check-field-decisions'
import { ROOT_STRUCTS } from './docker-schema'
import { describeDropped, unknownFieldsDenial } from './dropped'
import { decodeGoBody } from './go-json'
import { judgeViolations } from './report'
import { badRequest, refusal, reported, type ExecDecision, type PolicyContext, type Violation } from './types'

/**
 * Vet a `POST /containers/{id}/exec` body. `Privileged: true` gives the
 * process every capability even in an unprivileged container; a root `User`
 * overrides an image that drops to a non-root user.
 */
export function vetExec (raw: string, config: PolicyConfig, ctx: PolicyContext): ExecDecision {
  const rules = effectivePolicy(config, ctx)
  const decoded = decodeGoBody(raw, ROOT_STRUCTS.exec)
  if (!decoded.ok) return badRequest(decoded.rule, decoded.message, decoded.field)
  const { value: body, dropped } = decoded
  const unknown = unknownFieldsDenial(dropped, rules.unknownFields)
  if (unknown !== undefined) return unknown
  if ((listAt(body, 'Cmd') ?? []).length === 0) return badRequest('exec-cmd-required', 'the exec body must have a non-empty Cmd', 'Cmd')

  const violations: Violation[] = checkFieldDecisions(body, ROOT_STRUCTS.exec)
  if (boolAt(body, 'Privileged') === true && !rules.exec.allowPrivileged) {
    violations.push({ rule: 'exec-privileged', field: 'Privileged', message: 'Privileged=true is not allowed for exec (it grants every capability)' })
  }
  const user = strAt(body, 'User') ?? ''
  if (isRootUser(user) && !rules.exec.allowRootUser) {
    violations.push({ rule: 'exec-root-user', field: 'User', message: `User=${JSON.stringify(user)} is not allowed for exec (runs as root)` })
  }
  const judged = judgeViolations(violations, rules)
  return refusal(judged) ?? { allow: true, body, dropped: dropped.map(describeDropped), ...reported(judged.wouldDeny) }
}

/**
 * Does `user[:group]` run as uid 0? runc reads a numeric user with Go's
 * strconv.Atoi, which takes "00", "+0" and "-0" as 0, and an empty user part
 * (":" or ":1000") falls back to uid 0, NOT to the image's user (verified on
 * 20.10 with a container started as 65534). Only '' means the container's
 * configured user. A second passwd entry with uid 0 under another name cannot
 * be seen from here.
 */
export function isRootUser (user: string): boolean {
  if (user === '') return false
  const name = user.split(':')[0] ?? ''
  return name === '' || name === 'root' || /^[+-]?0+$/.test(name)
}
