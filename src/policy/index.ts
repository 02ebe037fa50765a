/** The request-vetting policy: pure functions, body in, decision out (issue 4). */
export { vetCreate } from './create'
export { vetExec, isRootUser } from './exec'
export { vetUpdate } from './update'
export {
  PolicyConfigSchema, PolicyRulesSchema, PolicyPatchSchema, PolicyOverrideSchema, PolicyConfigError,
  defaultPolicyConfig, effectivePolicy, resolvePolicyConfig, checkPolicyConfig, applyPatch, overrideApplies
} from './config'
export type { PolicyConfig, PolicyRules, PolicyPatch, PolicyOverride, PolicyCaller } from './config'
export { rewriteContainerRef, reported } from './types'
export type { PolicyContext, ContainerRef, VolumeRef, Denial, Violation, Reported, CreateDecision, ExecDecision, UpdateDecision } from './types'
export { REPORTABLE_RULES, NEVER_REPORTED_RULES, judgeViolations } from './report'
export { decodeGoBody, goFoldKey, goFieldName } from './go-json'
export { normaliseHostPath, isUnderPrefix, parseBind, VOLUME_NAME } from './paths'
export { collectVolumeRefs, checkVolumeMounts } from './volume-refs'
export { FIELD_DECISIONS } from './field-decisions'
export type { FieldDecision } from './field-decisions'
export { checkFieldDecisions } from './check-field-decisions'
