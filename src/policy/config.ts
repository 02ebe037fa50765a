import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { parseLogSize } from './log-options'
import { checkAllowedNetworks } from './networks'
import { normaliseHostPath } from './paths'
import { checkReportRules } from './report'

/**
 * The `policy:` section of the config file. Every default is the secure
 * choice: no host paths, no extra capabilities or sysctls, no low or
 * all-ports publishing, and resource caps with defaults injected when a body
 * sets none. `overrides` loosen (or tighten) it per principal or scope.
 */

const MiB = 1024 ** 2
const GiB = 1024 ** 3

/**
 * Schemas are built twice: with defaults for the section itself, and without
 * for override patches, where a filled-in default would silently reset the
 * base value (an admin override that only allows low ports must not also
 * reset allowedBindPrefixes to []).
 */
function ruleSchemas (withDefaults: boolean) {
  const d = (value: unknown): { default?: unknown } => withDefaults ? { default: value } : {}
  const strings = (def: string[], description: string) =>
    Type.Array(Type.String(), { ...d(def), description })

  const hostPortRange = Type.Object({
    min: Type.Integer({ minimum: 0, maximum: 65535, ...d(1024) }),
    max: Type.Integer({ minimum: 0, maximum: 65535, ...d(65535) })
  }, { additionalProperties: false, ...d({}), description: 'host ports a PortBindings entry may name; an empty HostPort (random) is always allowed' })

  const resources = Type.Object({
    maxMemory: Type.Integer({ minimum: 0, ...d(8 * GiB), description: 'bytes; 0 = no cap' }),
    defaultMemory: Type.Integer({ minimum: 0, ...d(1 * GiB), description: 'bytes injected when Memory is absent or 0; 0 = inject maxMemory' }),
    maxNanoCpus: Type.Integer({ minimum: 0, ...d(4e9), description: '1e9 = one CPU, also caps CpuQuota/CpuPeriod; 0 = no cap' }),
    defaultNanoCpus: Type.Integer({ minimum: 0, ...d(1e9) }),
    maxPidsLimit: Type.Integer({ minimum: 0, ...d(4096), description: '0 = no cap' }),
    defaultPidsLimit: Type.Integer({ minimum: 0, ...d(1024) }),
    maxMemorySwap: Type.Optional(Type.Integer({
      minimum: 0,
      description: 'bytes of memory+swap (MemorySwap, which is Memory plus swap); absent = 2 x maxMemory, 0 = no cap. A body without MemorySwap gets 2 x Memory within this cap'
    })),
    maxTmpfsSize: Type.Integer({ minimum: 0, ...d(2 * GiB), description: 'bytes: caps ShmSize, a Tmpfs size= option and a tmpfs Mount\'s SizeBytes; 0 = no cap' }),
    defaultShmSize: Type.Integer({ minimum: 0, ...d(64 * MiB), description: 'bytes of /dev/shm injected when ShmSize is absent or 0 (dockerd\'s --default-shm-size differs per host); 0 = leave it to the daemon' })
  }, { additionalProperties: false, ...d({}) })

  const logs = Type.Object({
    maxSize: Type.String({ ...d('100m'), description: 'highest LogConfig.Config max-size (go-units: 100m, 1g), read with 1024 multipliers; "" = no cap' }),
    maxFile: Type.Integer({ minimum: 0, ...d(10), description: 'highest LogConfig.Config max-file; 0 = no cap' }),
    defaultMaxSize: Type.String({ ...d('20m'), description: 'max-size injected for json-file and local when the body sets none; "" = inject none' }),
    defaultMaxFile: Type.Integer({ minimum: 0, ...d(5), description: 'max-file injected for json-file and local when the body sets none; 0 = inject none' }),
    defaultDriver: Type.String({ ...d('json-file'), description: 'LogConfig.Type injected when the body leaves it empty, rotated by defaultMaxSize/defaultMaxFile (json-file: docker-py\'s containers.run() returns output only for json-file and journald; local is also possible, with json-file used for bodies that set options local does not take); "" = leave it to the daemon\'s default driver, which gets no rotation injected' })
  }, { additionalProperties: false, ...d({}) })

  const exec = Type.Object({
    allowPrivileged: Type.Boolean({ ...d(false) }),
    allowRootUser: Type.Boolean({ ...d(false) })
  }, { additionalProperties: false, ...d({}) })

  const properties = {
    mode: Type.Union([Type.Literal('enforce'), Type.Literal('report')], {
      ...d('enforce'),
      description: 'enforce: a body a rule denies is refused (403). report: it is forwarded, and its audit line says decision "would-deny" with the rules; ownership rules (owner-label, container-ref, volume-ref), bodies that cannot be read (400), authentication, scopes and the route allow-list always refuse (docs/policy.md "Report-only mode")'
    }),
    reportRules: strings([], 'rule ids that only report, as in mode report, while every other rule enforces (e.g. [image, resources]); ownership rules cannot be listed'),
    unknownFields: Type.Union([Type.Literal('drop'), Type.Literal('reject')], {
      ...d('drop'),
      description: 'keys the API schema does not know: dropped from the forwarded body, or the request refused (400)'
    }),
    allowedBindPrefixes: strings([], 'host paths under which bind mounts are allowed (whole segments); empty = no bind mounts'),
    requireReadOnlyBinds: Type.Boolean({ ...d(false), description: 'bind mounts must be read-only (stops containers planting symlinks in allowed trees)' }),
    allowedCapabilities: strings([], 'CapAdd entries allowed, with or without CAP_; ALL is never allowed'),
    allowedSysctls: strings([], "sysctl names allowed, '*' matches any run of characters"),
    allowedRuntimes: strings(['runc', ''], "HostConfig.Runtime values; '' = the daemon's default runtime"),
    allowedLogDrivers: strings(['json-file', 'local', 'journald', ''], "LogConfig.Type values; '' = the daemon's default driver"),
    logs,
    allowedNetworks: strings([], "user-defined networks (exact, case-sensitive names) a container may join by NetworkMode or EndpointsConfig, and only there set Aliases, DNSNames and Links; \"\", default, bridge, none and container:<own> are always allowed"),
    hostPortRange,
    allowedHostIps: strings(['', '0.0.0.0', '::', '127.0.0.1', '::1'], "PortBindings HostIp values; '' = the daemon's default address"),
    allowPublishAll: Type.Boolean({ ...d(false) }),
    imageAllowList: strings([], "image patterns ('registry.internal/*', 'nginx:*', 'nginx@*' for digests), matched against the normalised reference with its registry host; gates create (empty = any image already on the daemon) and pulls (empty = no pulls: POST /images/create is refused)"),
    requiredLabels: strings([], 'label keys every create body must set to a non-empty value'),
    ulimitCaps: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
      ...d({ nofile: 65536, nproc: 4096, core: 0, memlock: 64 * MiB }),
      description: 'highest Soft and Hard per ulimit name (case-insensitive); names not listed are refused, -1 (unlimited) always'
    }),
    resources,
    cgroupnsMode: Type.Union([Type.Literal('private'), Type.Literal('allow-host')], {
      ...d('private'),
      description: 'CgroupnsMode "private" is injected when a body leaves it empty (dockerd\'s default is "host" on cgroup v1); "host" is refused unless allow-host'
    }),
    exec
  }
  return { properties, hostPortRange, resources, logs, exec }
}

const withDefaults = ruleSchemas(true)
const patchParts = ruleSchemas(false)

/** The rules without `overrides`: what one request is judged by. */
export const PolicyRulesSchema = Type.Object(withDefaults.properties, { additionalProperties: false })
export type PolicyRules = Static<typeof PolicyRulesSchema>

/** A partial set of rules: arrays and scalars replace, objects merge key by key. */
export const PolicyPatchSchema = Type.Partial(Type.Object({
  ...patchParts.properties,
  hostPortRange: Type.Partial(patchParts.hostPortRange),
  resources: Type.Partial(patchParts.resources),
  logs: Type.Partial(patchParts.logs),
  exec: Type.Partial(patchParts.exec)
}, { additionalProperties: false }))
export type PolicyPatch = Static<typeof PolicyPatchSchema>

export const PolicyOverrideSchema = Type.Object({
  scopes: Type.Optional(Type.Array(Type.String(), { description: 'applies when the caller has any of these scopes' })),
  principals: Type.Optional(Type.Array(Type.String(), { description: 'applies when the caller is one of these principals (JWT sub)' })),
  policy: PolicyPatchSchema
}, { additionalProperties: false, description: 'with both scopes and principals, both must match; with neither, the override applies to nobody' })
export type PolicyOverride = Static<typeof PolicyOverrideSchema>

export const PolicyConfigSchema = Type.Object({
  ...withDefaults.properties,
  overrides: Type.Array(PolicyOverrideSchema, { default: [] })
}, { additionalProperties: false, default: {} })
export type PolicyConfig = Static<typeof PolicyConfigSchema>

/** The policy with every default, as an absent `policy:` section gives. */
export const defaultPolicyConfig: PolicyConfig = deepFreeze(Value.Default(PolicyConfigSchema, {}) as PolicyConfig)

export class PolicyConfigError extends Error {
  override name = 'PolicyConfigError'
  constructor (readonly problems: string[]) {
    super(`invalid policy configuration:\n  - ${problems.join('\n  - ')}`)
  }
}

/** Fill defaults into a parsed `policy:` section and validate it, or throw PolicyConfigError. */
export function resolvePolicyConfig (input: unknown): PolicyConfig {
  const value = Value.Default(PolicyConfigSchema, Value.Clone(input ?? {}))
  const errors = [...Value.Errors(PolicyConfigSchema, value)].map(e => `policy${e.path.replaceAll('/', '.')}: ${e.message}`)
  if (errors.length > 0) throw new PolicyConfigError(errors)
  const config = value as PolicyConfig
  const problems = checkPolicyConfig(config)
  if (problems.length > 0) throw new PolicyConfigError(problems)
  return config
}

/** Problems the schema cannot express; empty when the config is usable. */
export function checkPolicyConfig (config: PolicyConfig): string[] {
  const problems = checkRules(config, 'policy')
  config.overrides.forEach((o, i) => {
    const where = `policy.overrides[${i}]`
    if ((o.scopes ?? []).length === 0 && (o.principals ?? []).length === 0) {
      problems.push(`${where}: names no scopes and no principals, so it would apply to nobody`)
    }
    problems.push(...checkRules(applyPatch(config, o.policy), where))
  })
  return [...new Set(problems)]
}

function checkRules (rules: PolicyRules, where: string): string[] {
  const problems: string[] = []
  const { hostPortRange: ports, resources: r } = rules
  if (ports.min > ports.max) problems.push(`${where}.hostPortRange: min ${ports.min} is above max ${ports.max}`)
  for (const [max, def] of [['maxMemory', 'defaultMemory'], ['maxNanoCpus', 'defaultNanoCpus'], ['maxPidsLimit', 'defaultPidsLimit'], ['maxTmpfsSize', 'defaultShmSize']] as const) {
    if (r[max] > 0 && r[def] > r[max]) problems.push(`${where}.resources.${def} (${r[def]}) is above ${max} (${r[max]})`)
  }
  if (r.maxMemorySwap !== undefined && r.maxMemorySwap > 0 && r.maxMemory > 0 && r.maxMemorySwap < r.maxMemory) {
    // MemorySwap is memory+swap (Docker docs, --memory-swap): below maxMemory an allowed Memory could not be given at all.
    problems.push(`${where}.resources.maxMemorySwap (${r.maxMemorySwap}) is below maxMemory (${r.maxMemory}): raise it (memory+swap) or set 0 for no cap`)
  }
  for (const p of rules.allowedBindPrefixes) {
    const clean = normaliseHostPath(p)
    if (!clean.ok) problems.push(`${where}.allowedBindPrefixes: ${JSON.stringify(p)} ${clean.reason}`)
  }
  for (const c of rules.allowedCapabilities) {
    if (/^(CAP_)?ALL$/i.test(c)) problems.push(`${where}.allowedCapabilities: ALL is never allowed`)
  }
  if (rules.imageAllowList.some(p => p === '')) problems.push(`${where}.imageAllowList: an empty pattern matches nothing`)
  problems.push(...checkAllowedNetworks(rules.allowedNetworks, where))
  problems.push(...checkReportRules(rules.reportRules, where))
  problems.push(...checkLogsConfig(rules, where))
  return problems
}

function checkLogsConfig (rules: PolicyRules, where: string): string[] {
  const problems: string[] = []
  const { logs } = rules
  const size = (key: 'maxSize' | 'defaultMaxSize'): number | undefined => {
    if (logs[key] === '') return undefined
    const n = parseLogSize(logs[key])
    if (n === undefined || n <= 0) problems.push(`${where}.logs.${key}: ${JSON.stringify(logs[key])} is not a positive size such as "20m"`)
    return n
  }
  const max = size('maxSize')
  const def = size('defaultMaxSize')
  if (max !== undefined && def !== undefined && def > max) problems.push(`${where}.logs.defaultMaxSize (${logs.defaultMaxSize}) is above maxSize (${logs.maxSize})`)
  if (max !== undefined && logs.defaultMaxSize === '') problems.push(`${where}.logs.defaultMaxSize: with a maxSize cap, a default is needed (json-file's own default is unlimited)`)
  if (logs.maxFile > 0 && logs.defaultMaxFile > logs.maxFile) problems.push(`${where}.logs.defaultMaxFile (${logs.defaultMaxFile}) is above maxFile (${logs.maxFile})`)
  if (logs.defaultDriver !== '' && !rules.allowedLogDrivers.includes(logs.defaultDriver)) {
    problems.push(`${where}.logs.defaultDriver ${JSON.stringify(logs.defaultDriver)} is not in allowedLogDrivers`)
  }
  if (logs.defaultDriver === 'local' && !rules.allowedLogDrivers.includes('json-file')) {
    // injectLogDefaults falls back to json-file for bodies with options local does not take.
    problems.push(`${where}.logs.defaultDriver local needs json-file in allowedLogDrivers too (for bodies that set tag, labels or env)`)
  }
  return problems
}

/** Apply a patch: arrays and scalars replace, objects merge key by key. */
export function applyPatch (base: PolicyConfig, patch: PolicyPatch): PolicyConfig {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue
    const current = out[key]
    out[key] = isPlainObject(value) && isPlainObject(current) ? { ...current, ...value } : value
  }
  return out as PolicyConfig
}

export interface PolicyCaller {
  principal: string
  scopes: readonly string[]
}

/** Does this override select the caller? Both lists must match when both are given. */
export function overrideApplies (o: PolicyOverride, who: PolicyCaller): boolean {
  const scopes = o.scopes ?? []
  const principals = o.principals ?? []
  if (scopes.length === 0 && principals.length === 0) return false
  if (scopes.length > 0 && !scopes.some(s => who.scopes.includes(s))) return false
  if (principals.length > 0 && !principals.includes(who.principal)) return false
  return true
}

/** The rules for one caller: every matching override applied in order, later ones winning. */
export function effectivePolicy (config: PolicyConfig, who: PolicyCaller): PolicyConfig {
  let rules: PolicyConfig = { ...config, overrides: [] }
  for (const o of config.overrides) {
    if (overrideApplies(o, who)) rules = applyPatch(rules, o.policy)
  }
  return rules
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function deepFreeze<T> (v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const inner of Object.values(v)) deepFreeze(inner)
    Object.freeze(v)
  }
  return v
}
