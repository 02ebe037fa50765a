import t from 'tap'
import { Value } from '@sinclair/typebox/value'
import {
  PolicyConfigError, PolicyConfigSchema, checkPolicyConfig, defaultPolicyConfig, effectivePolicy, resolvePolicyConfig
} from '../../../src/policy/config'

const GiB = 1024 ** 3

t.test('the defaults are the secure ones', async t => {
  t.same(defaultPolicyConfig, {
    mode: 'enforce',
    reportRules: [],
    unknownFields: 'drop',
    allowedBindPrefixes: [],
    requireReadOnlyBinds: false,
    allowedCapabilities: [],
    allowedSysctls: [],
    allowedRuntimes: ['runc', ''],
    allowedLogDrivers: ['json-file', 'local', 'journald', ''],
    hostPortRange: { min: 1024, max: 65535 },
    allowedHostIps: ['', '0.0.0.0', '::', '127.0.0.1', '::1'],
    allowPublishAll: false,
    imageAllowList: [],
    requiredLabels: [],
    ulimitCaps: { nofile: 65536, nproc: 4096, core: 0, memlock: 64 * 1024 ** 2 },
    resources: { maxMemory: 8 * GiB, defaultMemory: 1 * GiB, maxNanoCpus: 4e9, defaultNanoCpus: 1e9, maxPidsLimit: 4096, defaultPidsLimit: 1024, maxTmpfsSize: 2 * GiB, defaultShmSize: 64 * 1024 ** 2 },
    logs: { maxSize: '100m', maxFile: 10, defaultMaxSize: '20m', defaultMaxFile: 5, defaultDriver: 'json-file' },
    allowedNetworks: [],
    cgroupnsMode: 'private',
    exec: { allowPrivileged: false, allowRootUser: false },
    overrides: []
  })
  t.ok(Value.Check(PolicyConfigSchema, defaultPolicyConfig), 'they validate against the schema')
  t.same(checkPolicyConfig(defaultPolicyConfig), [])
  t.ok(Object.isFrozen(defaultPolicyConfig.allowedRuntimes), 'nobody can change them at run time')
  t.same(resolvePolicyConfig(undefined), defaultPolicyConfig, 'an absent policy section gives the defaults')
  t.same(resolvePolicyConfig({}), defaultPolicyConfig)
})

t.test('a partial section is completed with defaults, nested objects key by key', async t => {
  const c = resolvePolicyConfig({ allowedBindPrefixes: ['/srv/data'], resources: { maxMemory: 16 * GiB }, exec: { allowRootUser: true } })
  t.same(c.allowedBindPrefixes, ['/srv/data'])
  t.same(c.resources, { ...defaultPolicyConfig.resources, maxMemory: 16 * GiB })
  t.same(c.exec, { allowPrivileged: false, allowRootUser: true })
  t.same(c.hostPortRange, { min: 1024, max: 65535 })
  c.allowedRuntimes.push('kata')
  t.same(defaultPolicyConfig.allowedRuntimes, ['runc', ''], 'a resolved config shares no arrays with the defaults')
})

t.test('schema errors name the key', async t => {
  const cases: Array<[unknown, RegExp]> = [
    [{ bogus: true }, /policy\.bogus: Unexpected property/],
    [{ resources: { maxMemory: '8g' } }, /policy\.resources\.maxMemory: Expected integer/],
    [{ resources: { maxMemory: -1 } }, /policy\.resources\.maxMemory/],
    [{ hostPortRange: { min: 70000 } }, /policy\.hostPortRange\.min/],
    [{ unknownFields: 'forward' }, /policy\.unknownFields/],
    [{ overrides: [{ scopes: ['admin'] }] }, /policy\.overrides\.0/],
    [{ overrides: [{ scopes: ['admin'], policy: { overrides: [] } }] }, /Unexpected property/],
    [{ ulimitCaps: { nofile: -1 } }, /policy\.ulimitCaps\.nofile/],
    [{ mode: 'learn' }, /policy\.mode/]
  ]
  for (const [input, re] of cases) {
    t.throws(() => resolvePolicyConfig(input), PolicyConfigError, JSON.stringify(input))
    try { resolvePolicyConfig(input) } catch (err) { t.match((err as Error).message, re, JSON.stringify(input)) }
  }
})

t.test('problems the schema cannot express are refused at boot', async t => {
  const cases: Array<[unknown, RegExp]> = [
    [{ hostPortRange: { min: 2000, max: 1000 } }, /hostPortRange: min 2000 is above max 1000/],
    [{ resources: { maxMemory: GiB, defaultMemory: 2 * GiB } }, /resources\.defaultMemory \(2147483648\) is above maxMemory/],
    [{ resources: { maxPidsLimit: 100 } }, /defaultPidsLimit \(1024\) is above maxPidsLimit \(100\)/],
    [{ allowedCapabilities: ['NET_ADMIN', 'all'] }, /ALL is never allowed/],
    [{ allowedCapabilities: ['CAP_ALL'] }, /ALL is never allowed/],
    [{ allowedBindPrefixes: ['srv/data'] }, /"srv\/data" is not an absolute path/],
    [{ imageAllowList: [''] }, /empty pattern/],
    [{ overrides: [{ policy: { allowPublishAll: true } }] }, /overrides\[0\]: names no scopes and no principals/],
    [{ overrides: [{ scopes: [], principals: [], policy: {} }] }, /apply to nobody/],
    [{ overrides: [{ scopes: ['admin'], policy: { resources: { defaultMemory: 9 * GiB } } }] }, /overrides\[0\]\.resources\.defaultMemory/],
    [{ reportRules: ['privilege'] }, /policy\.reportRules: "privilege" is not a rule that can report/],
    [{ reportRules: ['owner-label'] }, /policy\.reportRules: "owner-label" is an ownership rule and is never report-only/],
    [{ overrides: [{ principals: ['ci'], policy: { reportRules: ['volume-ref'] } }] }, /overrides\[0\]\.reportRules: "volume-ref" is an ownership rule/]
  ]
  for (const [input, re] of cases) {
    try {
      resolvePolicyConfig(input)
      t.fail(`accepted ${JSON.stringify(input)}`)
    } catch (err) {
      t.type(err, PolicyConfigError)
      t.match((err as Error).message, re, JSON.stringify(input))
    }
  }
  t.doesNotThrow(() => resolvePolicyConfig({ resources: { maxMemory: 0, defaultMemory: 2 * GiB } }), 'no cap allows any default')
})

t.test('overrides apply by scope, by principal, or both', async t => {
  const c = resolvePolicyConfig({
    overrides: [
      { scopes: ['admin'], policy: { hostPortRange: { min: 1 }, allowPublishAll: true } },
      { principals: ['ci'], policy: { allowedBindPrefixes: ['/srv/ci'], resources: { maxMemory: 16 * GiB } } },
      { scopes: ['gpu'], principals: ['ml'], policy: { allowedRuntimes: ['nvidia'] } }
    ]
  })
  const base = effectivePolicy(c, { principal: 'alice', scopes: ['containers:write'] })
  t.same(base.hostPortRange, { min: 1024, max: 65535 })
  t.same(base.overrides, [], 'the result has its overrides applied and removed')

  const admin = effectivePolicy(c, { principal: 'alice', scopes: ['containers:write', 'admin'] })
  t.same(admin.hostPortRange, { min: 1, max: 65535 }, 'objects merge key by key')
  t.equal(admin.allowPublishAll, true)

  const ci = effectivePolicy(c, { principal: 'ci', scopes: [] })
  t.same(ci.allowedBindPrefixes, ['/srv/ci'])
  t.same(ci.resources, { ...defaultPolicyConfig.resources, maxMemory: 16 * GiB })
  t.equal(ci.allowPublishAll, false)

  t.same(effectivePolicy(c, { principal: 'ml', scopes: [] }).allowedRuntimes, ['runc', ''], 'both lists given: the scope must match too')
  t.same(effectivePolicy(c, { principal: 'bob', scopes: ['gpu'] }).allowedRuntimes, ['runc', ''], 'and the principal')
  t.same(effectivePolicy(c, { principal: 'ml', scopes: ['gpu'] }).allowedRuntimes, ['nvidia'], 'arrays replace')

  t.same(c.overrides.length, 3, 'effectivePolicy does not change the config')
  t.same(c.hostPortRange, { min: 1024, max: 65535 })
})

t.test('later overrides win', async t => {
  const c = resolvePolicyConfig({
    overrides: [
      { scopes: ['a'], policy: { allowedCapabilities: ['NET_ADMIN'], exec: { allowRootUser: true } } },
      { scopes: ['b'], policy: { allowedCapabilities: ['SYS_TIME'] } }
    ]
  })
  const both = effectivePolicy(c, { principal: 'x', scopes: ['a', 'b'] })
  t.same(both.allowedCapabilities, ['SYS_TIME'])
  t.same(both.exec, { allowPrivileged: false, allowRootUser: true })
})

t.test('an override changes only what it names', async t => {
  const c = resolvePolicyConfig({
    allowedBindPrefixes: ['/srv/data'],
    hostPortRange: { min: 2000, max: 3000 },
    resources: { defaultMemory: 2 * GiB },
    overrides: [{ scopes: ['admin'], policy: { hostPortRange: { min: 80 }, resources: { maxPidsLimit: 8192 } } }]
  })
  t.same(c.overrides[0]!.policy, { hostPortRange: { min: 80 }, resources: { maxPidsLimit: 8192 } }, 'no defaults are filled into a patch')
  const admin = effectivePolicy(c, { principal: 'root', scopes: ['admin'] })
  t.same(admin.allowedBindPrefixes, ['/srv/data'])
  t.same(admin.hostPortRange, { min: 80, max: 3000 })
  t.same(admin.resources, { ...defaultPolicyConfig.resources, defaultMemory: 2 * GiB, maxPidsLimit: 8192 })
})
