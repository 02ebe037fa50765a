import t from 'tap'
import { checkFieldDecisions, isZeroValue } from '../../../src/policy/check-field-decisions'
import { vetCreate } from '../../../src/policy/create'
import { vetExec } from '../../../src/policy/exec'
import { FIELD_DECISIONS } from '../../../src/policy/field-decisions'
import { vetUpdate } from '../../../src/policy/update'
import { resolvePolicyConfig } from '../../../src/policy/config'
import { alice, TABLE_POLICY } from '../../helpers/policy/cases'
import { CLI_CREATE_FULL, CLI_CREATE_PLAIN, CLI_UPDATE, DOCKERODE_CREATE, DOCKERODE_EXEC, PY_CREATE, PY_EXEC } from '../../helpers/policy/fixtures'

/**
 * The decision table (src/policy/field-decisions.ts) as the vetting
 * functions apply it: a denied field with a non-zero value is a 403 naming
 * the field and why; its zero value (what clients send for every field they
 * do not set) passes; structs, lists of structs and maps are walked into.
 */

type Vet = 'create' | 'exec' | 'update'
interface Row {
  name: string
  vet: Vet
  body: unknown
  /** 'allow', or the rule and field of the first violation. */
  expect: 'allow' | { rule: string, field: string }
}

/** The table's policy, with the networks the endpoint rows name allowed (so the row judges the endpoint field, not the network). */
const config = resolvePolicyConfig({ ...TABLE_POLICY, allowedNetworks: ['net1', 'my.net'] })
const hc = (fields: Record<string, unknown>): unknown => ({ Image: 'busybox', HostConfig: fields })
const denied = (field: string): Row['expect'] => ({ rule: 'field-denied', field })
const blkio = [{ Path: '/etc/shadow', Rate: 1 }]

const rows: Row[] = [
  // Agreed denials: dockerd stat()s these host paths as root (issue 10 finding 5).
  { name: 'BlkioDeviceReadBps non-zero', vet: 'create', body: hc({ BlkioDeviceReadBps: blkio }), expect: denied('HostConfig.BlkioDeviceReadBps') },
  { name: 'BlkioDeviceWriteBps non-zero', vet: 'create', body: hc({ BlkioDeviceWriteBps: blkio }), expect: denied('HostConfig.BlkioDeviceWriteBps') },
  { name: 'BlkioDeviceReadIOps non-zero', vet: 'create', body: hc({ BlkioDeviceReadIOps: blkio }), expect: denied('HostConfig.BlkioDeviceReadIOps') },
  { name: 'BlkioDeviceWriteIOps non-zero', vet: 'create', body: hc({ BlkioDeviceWriteIOps: blkio }), expect: denied('HostConfig.BlkioDeviceWriteIOps') },
  { name: 'BlkioWeightDevice non-zero', vet: 'create', body: hc({ BlkioWeightDevice: [{ Path: '/etc/shadow', Weight: 100 }] }), expect: denied('HostConfig.BlkioWeightDevice') },
  { name: 'a Blkio entry with empty values is still an entry (dockerd stats "")', vet: 'create', body: hc({ BlkioDeviceReadBps: [{ Path: '', Rate: 0 }] }), expect: denied('HostConfig.BlkioDeviceReadBps') },
  { name: 'Blkio lists empty (what the CLI sends)', vet: 'create', body: hc({ BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [] }), expect: 'allow' },
  { name: 'Blkio lists null', vet: 'create', body: hc({ BlkioDeviceReadBps: null }), expect: 'allow' },
  { name: 'update: BlkioDeviceReadBps non-zero', vet: 'update', body: { BlkioDeviceReadBps: blkio }, expect: denied('BlkioDeviceReadBps') },
  // Other denials, each with its zero value.
  { name: 'StopTimeout non-zero', vet: 'create', body: { Image: 'busybox', StopTimeout: -1 }, expect: denied('StopTimeout') },
  { name: 'StopTimeout 0', vet: 'create', body: { Image: 'busybox', StopTimeout: 0 }, expect: 'allow' },
  { name: 'legacy container MacAddress', vet: 'create', body: { Image: 'busybox', MacAddress: '02:42:ac:11:00:02' }, expect: denied('MacAddress') },
  { name: 'legacy container MacAddress ""', vet: 'create', body: { Image: 'busybox', MacAddress: '' }, expect: 'allow' },
  { name: 'StorageOpt size', vet: 'create', body: hc({ StorageOpt: { size: '100G' } }), expect: denied('HostConfig.StorageOpt') },
  { name: 'StorageOpt {}', vet: 'create', body: hc({ StorageOpt: {} }), expect: 'allow' },
  { name: 'Isolation hyperv', vet: 'create', body: hc({ Isolation: 'hyperv' }), expect: denied('HostConfig.Isolation') },
  { name: 'KernelMemory', vet: 'create', body: hc({ KernelMemory: 1 << 20 }), expect: denied('HostConfig.KernelMemory') },
  { name: 'update: KernelMemoryTCP', vet: 'update', body: { KernelMemoryTCP: 1 << 20 }, expect: denied('KernelMemoryTCP') },
  { name: 'CpuCount (Windows)', vet: 'create', body: hc({ CpuCount: 64 }), expect: denied('HostConfig.CpuCount') },
  { name: 'update: IOMaximumBandwidth (Windows)', vet: 'update', body: { IOMaximumBandwidth: 1 }, expect: denied('IOMaximumBandwidth') },
  // Nested structs: a map of EndpointSettings, a list of Mounts.
  {
    name: 'endpoint MacAddress in a map of structs',
    vet: 'create',
    body: { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { net1: { MacAddress: '02:42:ac:11:00:02' } } } },
    expect: denied('NetworkingConfig.EndpointsConfig.net1.MacAddress')
  },
  {
    name: 'endpoint IPAddress (output only)',
    vet: 'create',
    body: { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { 'my.net': { IPAddress: '172.17.0.9' } } } },
    expect: denied('NetworkingConfig.EndpointsConfig["my.net"].IPAddress')
  },
  {
    name: 'endpoint DriverOpts',
    vet: 'create',
    body: { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { net1: { DriverOpts: { 'com.docker.network.endpoint.ifname': 'x' } } } } },
    expect: denied('NetworkingConfig.EndpointsConfig.net1.DriverOpts')
  },
  {
    name: 'endpoint zero values (what the CLI sends)',
    vet: 'create',
    body: { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { default: { IPAMConfig: null, MacAddress: '', DriverOpts: null, IPAddress: '', IPPrefixLen: 0, NetworkID: '' } } } },
    expect: 'allow'
  },
  {
    name: 'ReadOnlyNonRecursive in a list of Mounts',
    vet: 'create',
    body: hc({ Mounts: [{ Type: 'tmpfs', Target: '/t' }, { Type: 'bind', Source: '/srv/data', Target: '/d', ReadOnly: true, BindOptions: { ReadOnlyNonRecursive: true } }] }),
    expect: denied('HostConfig.Mounts[1].BindOptions.ReadOnlyNonRecursive')
  },
  {
    name: 'ReadOnlyForceRecursive is allowed',
    vet: 'create',
    body: hc({ Mounts: [{ Type: 'bind', Source: '/srv/data', Target: '/d', ReadOnly: true, BindOptions: { ReadOnlyForceRecursive: true } }] }),
    expect: 'allow'
  },
  // LogConfig.Config: rotation and metadata options only.
  { name: 'log options max-size, max-file', vet: 'create', body: hc({ LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } } }), expect: 'allow' },
  {
    name: 'log option that reads a host file',
    vet: 'create',
    body: hc({ LogConfig: { Type: 'json-file', Config: { 'syslog-tls-ca-cert': '/etc/shadow' } } }),
    expect: { rule: 'log-options', field: 'HostConfig.LogConfig.Config["syslog-tls-ca-cert"]' }
  },
  { name: 'log mode non-blocking with a dockerd buffer', vet: 'create', body: hc({ LogConfig: { Type: 'local', Config: { mode: 'non-blocking', 'max-buffer-size': '4g' } } }), expect: { rule: 'log-options', field: 'HostConfig.LogConfig.Config.mode' } },
  // Allowed fields that clients send non-zero.
  { name: 'ConsoleSize and MemorySwappiness -1 (the CLI sends them)', vet: 'create', body: hc({ ConsoleSize: [24, 80], MemorySwappiness: -1 }), expect: 'allow' },
  { name: 'exec ConsoleSize and DetachKeys', vet: 'exec', body: { Cmd: ['sh'], ConsoleSize: [24, 80], DetachKeys: 'ctrl-q' }, expect: 'allow' },
  // Real clients' bodies.
  { name: 'docker CLI: docker create', vet: 'create', body: CLI_CREATE_PLAIN, expect: 'allow' },
  { name: 'docker CLI: docker create with common flags', vet: 'create', body: CLI_CREATE_FULL, expect: 'allow' },
  { name: 'docker-py create', vet: 'create', body: PY_CREATE.replace('"CPURealtimePeriod": 1000, ', ''), expect: 'allow' },
  { name: 'dockerode create', vet: 'create', body: DOCKERODE_CREATE, expect: 'allow' },
  { name: 'docker CLI: docker update', vet: 'update', body: CLI_UPDATE, expect: 'allow' },
  { name: 'docker-py exec', vet: 'exec', body: PY_EXEC, expect: 'allow' },
  { name: 'dockerode exec', vet: 'exec', body: DOCKERODE_EXEC, expect: 'allow' }
]

const pyConfig = { ...config, allowedCapabilities: ['NET_ADMIN'] }

t.test('field decision rows', async t => {
  for (const row of rows) {
    const raw = typeof row.body === 'string' ? row.body : JSON.stringify(row.body)
    const cfg = row.name.startsWith('docker-py') || row.name.includes('common flags') ? pyConfig : config
    const d = row.vet === 'create' ? vetCreate(raw, cfg, alice) : row.vet === 'exec' ? vetExec(raw, cfg, alice) : vetUpdate(raw, cfg, alice)
    if (row.expect === 'allow') {
      t.ok(d.allow, `${row.name}${d.allow ? '' : `: ${d.message}`}`)
      continue
    }
    if (d.allow) {
      t.fail(`${row.name}: expected ${row.expect.rule}, got allow`)
      continue
    }
    t.same({ status: d.status, rule: d.rule, field: d.field }, { status: 403, ...row.expect }, `${row.name}: ${d.message}`)
  }
})

t.test('a denial names the field, its value and why', async t => {
  const d = vetCreate(JSON.stringify(hc({ BlkioDeviceReadBps: blkio })), config, alice)
  if (d.allow) return t.fail('allowed')
  t.equal(d.message, 'policy denied: HostConfig.BlkioDeviceReadBps=[{"Path":"/etc/shadow","Rate":1}] is not allowed (' +
    `${FIELD_DECISIONS.HostConfig!.BlkioDeviceReadBps!.why}) (rule: field-denied)`)
  t.match(d.message, /stat\(\)s each Path on the host/)
})

t.test('every denied field with a non-zero value is reported, with the other rules', async t => {
  const d = vetCreate(JSON.stringify(hc({ Privileged: true, StorageOpt: { size: '1G' }, Isolation: 'process' })), config, alice)
  if (d.allow) return t.fail('allowed')
  t.same(d.violations?.map(v => `${v.rule} ${v.field}`), ['privileged HostConfig.Privileged', 'field-denied HostConfig.StorageOpt', 'field-denied HostConfig.Isolation'])
})

t.test('fail closed: a schema field without a decision is refused (no-rule)', async t => {
  const { StopSignal: _gone, ...createBody } = FIELD_DECISIONS.CreateBody!
  const table = { ...FIELD_DECISIONS, CreateBody: createBody }
  t.same(checkFieldDecisions({ Image: 'busybox', StopSignal: 'SIGTERM' }, 'CreateBody', table), [{
    rule: 'no-rule',
    field: 'StopSignal',
    message: 'StopSignal has no policy decision yet, so it is refused (the gateway forwards only fields it has decided on)'
  }])
  t.same(checkFieldDecisions({ Image: 'busybox', StopSignal: '' }, 'CreateBody', table).map(v => v.rule), ['no-rule'], 'even a zero value: nobody decided what it means')
  t.same(checkFieldDecisions({ Image: 'busybox', StopSignal: null }, 'CreateBody', table), [], 'null is absent')
  t.same(checkFieldDecisions({ Image: 'busybox', StopSignal: 'SIGTERM' }, 'CreateBody'), [], 'with the real table it passes')

  const { EndpointSettings: _e, ...noEndpoint } = FIELD_DECISIONS
  const nested = checkFieldDecisions({ NetworkingConfig: { EndpointsConfig: { n: { Aliases: ['a'] } } } }, 'CreateBody', noEndpoint)
  t.same(nested.map(v => `${v.rule} ${v.field}`), ['no-rule NetworkingConfig.EndpointsConfig.n.Aliases'], 'a struct with no table at all, inside a map')
})

t.test('denied struct lists are not walked into; allowed ones are', async t => {
  const table = { ...FIELD_DECISIONS, ThrottleDevice: {} }
  t.same(checkFieldDecisions({ HostConfig: { BlkioDeviceReadBps: blkio } }, 'CreateBody', table).map(v => v.rule), ['field-denied'])
  const ulimitTable = { ...FIELD_DECISIONS, Ulimit: {} }
  t.same(checkFieldDecisions({ HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 1 }] } }, 'CreateBody', ulimitTable).map(v => v.field),
    ['HostConfig.Ulimits[0].Name', 'HostConfig.Ulimits[0].Soft', 'HostConfig.Ulimits[0].Hard'])
})

t.test("Go's zero values", async t => {
  for (const v of [null, undefined, '', 0, false, [], {}]) t.ok(isZeroValue(v), JSON.stringify(v) ?? 'undefined')
  for (const v of ['x', 1, -1, true, [0], [''], { a: '' }, ' ']) t.notOk(isZeroValue(v), JSON.stringify(v))
})
