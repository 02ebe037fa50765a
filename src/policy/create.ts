import { objAt, strAt, type Obj } from './body'
import { effectivePolicy, type PolicyConfig } from './config'
import { LEGACY_TOP_LEVEL_EXTRA, ROOT_STRUCTS } from './docker-schema'
import { describeDropped, unknownFieldsDenial } from './dropped'
import { decodeGoBody, goFieldName, goFoldKey } from './go-json'
import { checkFieldDecisions } from './check-field-decisions'
import { checkImage, checkMountImages } from './image'
import { checkLabels, stampOwner } from './labels'
import { checkHealthcheck } from './healthcheck'
import { checkLogOptions, injectLogDefaults } from './log-options'
import { checkMounts } from './mounts'
import { checkNamespacesAndRefs, injectNamespaceDefaults } from './namespaces'
import { checkNetworks } from './networks'
import { checkPorts } from './ports'
import { checkPrivileges } from './privileges'
import { checkOomScoreAdj, checkResources, checkRestartPolicy, checkUlimits, injectResourceDefaults } from './resources'
import { checkSysctls } from './sysctls'
import { checkVolumeMounts, collectVolumeRefs } from './volume-refs'
import { judgeViolations, keepSentValues } from './report'
import { badRequest, refusal, reported, type CreateDecision, type PolicyContext, type Violation } from './types'

/**
 * Vet a `POST /containers/create` body. The decision's `body` is what to
 * forward (re-serialised with JSON.stringify): the body as the daemon would
 * decode it, minus unknown keys, with resource defaults and the owner label
 * filled in. `containerRefs` are the containers it joins and `volumeRefs`
 * the named volumes it mounts, which the caller must own.
 */
export function vetCreate (raw: string, config: PolicyConfig, ctx: PolicyContext): CreateDecision {
  const rules = effectivePolicy(config, ctx)
  const decoded = decodeGoBody(raw, ROOT_STRUCTS.create)
  if (!decoded.ok) return badRequest(decoded.rule, decoded.message, decoded.field)
  const { value: body, dropped } = decoded

  // Old daemons apply these from the top level; a zero value applies nothing,
  // and dockerode's docker.run() sends e.g. `"VolumesFrom": []` there, so only
  // a value that would take effect is refused (the key is dropped either way).
  const legacyKeys = dropped.filter(d => d.path === '' && isLegacyHostConfigKey(d.key))
  const top = legacyKeys.length > 0 ? JSON.parse(raw) as Record<string, unknown> : {}
  const legacy = legacyKeys.find(d => !isZeroValue(top[d.key]))
  if (legacy !== undefined) {
    return badRequest('legacy-top-level-hostconfig',
      `${JSON.stringify(legacy.key)} is a HostConfig field and must be inside "HostConfig" (daemons before Engine 27 apply it from the top level)`,
      legacy.key)
  }
  const unknown = unknownFieldsDenial(dropped, rules.unknownFields)
  if (unknown !== undefined) return unknown

  const image = strAt(body, 'Image') ?? ''
  if (image === '') return badRequest('image-required', 'the create body must name an Image', 'Image')

  const hc = objAt(body, 'HostConfig')
  const refs = checkNamespacesAndRefs(body, rules)
  const violations: Violation[] = [
    ...checkImage(image, rules),
    ...checkMountImages(hc, rules),
    ...checkLabels(body, rules, ctx),
    ...checkPrivileges(hc, rules),
    ...refs.violations,
    ...checkNetworks(body, rules),
    ...checkMounts(hc, rules),
    ...checkVolumeMounts(hc, ctx),
    ...checkSysctls(body, rules),
    ...checkPorts(hc, rules),
    ...checkResources(hc, rules.resources, 'create', 'HostConfig.'),
    ...checkUlimits(hc, rules.ulimitCaps, 'HostConfig.'),
    ...checkOomScoreAdj(hc),
    ...checkRestartPolicy(hc, 'HostConfig.'),
    ...checkLogOptions(hc, rules.logs),
    ...checkHealthcheck(body),
    ...checkFieldDecisions(body, ROOT_STRUCTS.create)
  ]
  const judged = judgeViolations(violations, rules)
  const refused = refusal(judged)
  if (refused !== undefined) return refused

  // Defaults are injected in report mode too: they fill only what the body
  // leaves unset, so a body no rule denies is forwarded alike in both modes,
  // and a would-deny body keeps every value it sent (keepSentValues).
  const hostConfig: Obj = hc ?? {}
  body.HostConfig = hostConfig
  const sent = judged.wouldDeny.length > 0 ? { ...hostConfig } : undefined
  injectResourceDefaults(hostConfig, rules.resources)
  injectNamespaceDefaults(hostConfig)
  injectLogDefaults(hostConfig, rules.logs)
  if (sent !== undefined) keepSentValues(hostConfig, sent)
  // Ownership is never report-only: the owner label is the gateway's.
  stampOwner(body, ctx)
  return {
    allow: true, body, containerRefs: refs.refs, volumeRefs: collectVolumeRefs(hostConfig), dropped: dropped.map(describeDropped), ...reported(judged.wouldDeny)
  }
}

const legacyExtra = new Set(LEGACY_TOP_LEVEL_EXTRA.map(goFoldKey))

/** Go's zero values: what an omitted field decodes to. */
function isZeroValue (v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === false || v === 0) return true
  if (Array.isArray(v)) return v.length === 0
  return typeof v === 'object' && Object.keys(v).length === 0
}

function isLegacyHostConfigKey (key: string): boolean {
  return goFieldName('HostConfig', key) !== undefined || legacyExtra.has(goFoldKey(key))
}
