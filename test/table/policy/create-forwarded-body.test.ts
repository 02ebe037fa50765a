import t from 'tap'
import { vetCreate } from '../../../src/policy/create'
import { defaultPolicyConfig, resolvePolicyConfig } from '../../../src/policy/config'
import { rewriteContainerRef, type PolicyContext } from '../../../src/policy/types'
import { CLI_CREATE_PLAIN } from '../../helpers/policy/fixtures'

/** What an allowed create forwards: the vetted body, capped, stamped, with its container references. */

const GiB = 1024 ** 3
const MiB = 1024 ** 2
/** What every create gets besides the caps: host-dependent daemon defaults made explicit (host-defaults.test.ts). */
const HOST_DEFAULTS = { ShmSize: 64 * MiB, CgroupnsMode: 'private', IpcMode: 'private', LogConfig: { Type: 'json-file', Config: { 'max-size': '20m', 'max-file': '5' } } }
const alice: PolicyContext = { principal: 'alice', scopes: ['containers:write'], ownerLabel: 'docker-gateway.owner', ownershipEnabled: true }

function allowed (body: unknown, config = defaultPolicyConfig, ctx = alice) {
  const d = vetCreate(typeof body === 'string' ? body : JSON.stringify(body), config, ctx)
  if (!d.allow) throw new Error(`denied: ${d.message}`)
  return d
}

t.test('absent resources get the configured defaults', async t => {
  const d = allowed({ Image: 'x' })
  t.same(d.body, {
    Image: 'x',
    HostConfig: { Memory: 1 * GiB, NanoCpus: 1e9, PidsLimit: 1024, MemorySwap: 2 * GiB, ...HOST_DEFAULTS },
    Labels: { 'docker-gateway.owner': 'alice' }
  })
})

t.test('the docker CLI\'s zeros mean unset and get the defaults too', async t => {
  const hc = allowed(CLI_CREATE_PLAIN).body.HostConfig as Record<string, unknown>
  t.equal(hc.Memory, 1 * GiB)
  t.equal(hc.NanoCpus, 1e9)
  t.equal(hc.PidsLimit, 1024, 'PidsLimit 0 on create is "unset" (the daemon stores null), so the default applies')
  t.equal(hc.CpuQuota, 0)
})

t.test('values within the caps are kept', async t => {
  const hc = allowed({ Image: 'x', HostConfig: { Memory: 2 * GiB, NanoCpus: 5e8, PidsLimit: 64 } }).body.HostConfig
  t.same(hc, { Memory: 2 * GiB, NanoCpus: 5e8, PidsLimit: 64, MemorySwap: 4 * GiB, ...HOST_DEFAULTS })
})

t.test('a CPU quota is not combined with NanoCpus', async t => {
  t.same(allowed({ Image: 'x', HostConfig: { CpuQuota: 150000, CpuPeriod: 100000 } }).body.HostConfig,
    { CpuQuota: 150000, CpuPeriod: 100000, Memory: 1 * GiB, PidsLimit: 1024, MemorySwap: 2 * GiB, ...HOST_DEFAULTS }, 'an explicit quota stands')
  t.same(allowed({ Image: 'x', HostConfig: { CpuPeriod: 50000 } }).body.HostConfig,
    { CpuPeriod: 50000, CpuQuota: 50000, Memory: 1 * GiB, PidsLimit: 1024, MemorySwap: 2 * GiB, ...HOST_DEFAULTS },
    'a period alone gets the default as a quota, since the daemon refuses NanoCpus with CpuPeriod')
})

t.test('caps without defaults inject the cap; no caps inject nothing', async t => {
  const capOnly = resolvePolicyConfig({ resources: { maxMemory: 2 * GiB, defaultMemory: 0 } })
  t.equal((allowed({ Image: 'x' }, capOnly).body.HostConfig as Record<string, unknown>).Memory, 2 * GiB)
  const none = resolvePolicyConfig({ resources: { maxMemory: 0, defaultMemory: 0, maxNanoCpus: 0, defaultNanoCpus: 0, maxPidsLimit: 0, defaultPidsLimit: 0 } })
  t.same(allowed({ Image: 'x', HostConfig: { Memory: 64 * GiB, PidsLimit: -1 } }, none).body.HostConfig, { Memory: 64 * GiB, PidsLimit: -1, MemorySwap: 128 * GiB, ...HOST_DEFAULTS },
    'without caps MemorySwap is still made explicit, as the 2 x Memory the daemon would pick')
})

t.test('the owner label is stamped next to the client\'s labels', async t => {
  t.same(allowed('{"Image":"x","Labels":{"team":"a","__proto__":"b"}}').body.Labels, JSON.parse('{"team":"a","__proto__":"b","docker-gateway.owner":"alice"}'))
  t.same(allowed({ Image: 'x', Labels: null }).body.Labels, { 'docker-gateway.owner': 'alice' })
  t.same(allowed({ Image: 'x', Labels: { 'Docker-Gateway.Owner': 'bob' } }).body.Labels,
    { 'Docker-Gateway.Owner': 'bob', 'docker-gateway.owner': 'alice' }, 'label keys are case-sensitive data')
  t.notOk('Labels' in allowed({ Image: 'x' }, defaultPolicyConfig, { ...alice, ownershipEnabled: false }).body, 'nothing is stamped with ownership off')
})

t.test('dropped keys are reported and not forwarded', async t => {
  const d = allowed('{"Image":"x","Bogus":1,"HostConfig":{"Capabilities":["ALL"],"Memory":1073741824}}')
  t.same(d.dropped, ['Bogus', 'HostConfig.Capabilities'])
  t.notMatch(JSON.stringify(d.body), /Bogus|Capabilities/)
})

t.test('folded keys are forwarded under their exact names', async t => {
  const d = allowed('{"image":"x","hostconfig":{"memory":1073741824,"bindſ":[],"Lin\\u212as":["db:database"]}}')
  t.equal(JSON.stringify(d.body), '{"Image":"x","HostConfig":{"Memory":1073741824,"Binds":[],"Links":["db:database"],"NanoCpus":1000000000,"PidsLimit":1024,"MemorySwap":2147483648,"ShmSize":67108864,"CgroupnsMode":"private","IpcMode":"private","LogConfig":{"Type":"json-file","Config":{"max-size":"20m","max-file":"5"}}},"Labels":{"docker-gateway.owner":"alice"}}')
})

t.test('every container the body joins is returned as a reference', async t => {
  const d = allowed({
    Image: 'x',
    HostConfig: {
      NetworkMode: 'container:web',
      PidMode: 'container:3f2a',
      IpcMode: 'container:/web',
      Cgroup: 'container:web',
      VolumesFrom: ['data', 'logs:ro'],
      Links: ['db:database', 'cache', '/redis:/me/kv']
    },
    NetworkingConfig: { EndpointsConfig: { 'my-net': { Links: ['api:backend'] } } }
  }, resolvePolicyConfig({ allowedNetworks: ['my-net'] }))
  t.same(d.containerRefs.map(r => [r.field, r.ref]), [
    ['HostConfig.NetworkMode', 'web'],
    ['HostConfig.PidMode', '3f2a'],
    ['HostConfig.IpcMode', '/web'],
    ['HostConfig.Cgroup', 'web'],
    ['HostConfig.VolumesFrom[0]', 'data'],
    ['HostConfig.VolumesFrom[1]', 'logs'],
    ['HostConfig.Links[0]', 'db'],
    ['HostConfig.Links[1]', 'cache'],
    ['HostConfig.Links[2]', 'redis'],
    ['NetworkingConfig.EndpointsConfig["my-net"].Links[0]', 'api']
  ])
  for (const ref of d.containerRefs) rewriteContainerRef(d.body, ref, `ID-${ref.ref}`)
  const hc = d.body.HostConfig as Record<string, unknown>
  t.equal(hc.NetworkMode, 'container:ID-web', 'references are rewritten to the resolved ID')
  t.equal(hc.PidMode, 'container:ID-3f2a')
  t.same(hc.VolumesFrom, ['ID-data', 'ID-logs:ro'], 'the mode suffix is kept')
  t.same(hc.Links, ['ID-db:database', 'ID-cache:cache', 'ID-redis:kv'], 'aliases are kept as the daemon parsed them')
  t.same((d.body.NetworkingConfig as any).EndpointsConfig['my-net'].Links, ['ID-api:backend'])
  t.equal(vetCreate(JSON.stringify(d.body), resolvePolicyConfig({ allowedNetworks: ['my-net'] }), { ...alice, ownershipEnabled: false }).allow, true, 'the rewritten body still passes')
})

t.test('a body without references has none', async t => {
  t.same(allowed(CLI_CREATE_PLAIN).containerRefs, [])
})
