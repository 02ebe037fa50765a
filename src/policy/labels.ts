import { objAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { setOwn } from './go-json'
import { formatPath } from './strict-json'
import type { PolicyContext, Violation } from './types'

/**
 * Labels: the owner label is the gateway's to write (a client value would let
 * one principal plant containers on another), and configured keys are required.
 */

export function checkLabels (body: Obj, rules: Pick<PolicyRules, 'requiredLabels'>, ctx: PolicyContext): Violation[] {
  const out: Violation[] = []
  const labels = objAt(body, 'Labels')
  if (ctx.ownershipEnabled && labels !== undefined && Object.hasOwn(labels, ctx.ownerLabel)) {
    const field = formatPath(['Labels', ctx.ownerLabel])
    out.push({ rule: 'owner-label', field, message: `${field} is set by the gateway and cannot be sent` })
  }
  for (const key of rules.requiredLabels) {
    if ((strAt(labels, key) ?? '') === '') {
      const field = formatPath(['Labels', key])
      out.push({ rule: 'required-labels', field, message: `${field} is required and must not be empty` })
    }
  }
  return out
}

export function stampOwner (body: Obj, ctx: PolicyContext): void {
  if (!ctx.ownershipEnabled) return
  let labels = objAt(body, 'Labels')
  if (labels === undefined) {
    labels = {}
    body.Labels = labels
  }
  setOwn(labels, ctx.ownerLabel, ctx.principal)
}
