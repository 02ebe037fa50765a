import t from 'tap'
import { vetUpdate } from '../../../src/policy/update'
import { resolvePolicyConfig } from '../../../src/policy/config'
import type { PolicyContext } from '../../../src/policy/types'
import { CLI_UPDATE } from '../../helpers/policy/fixtures'

/** `POST /containers/{id}/update`: the create caps again, so nothing grows past them later. */

const GiB = 1024 ** 3
const config = resolvePolicyConfig({ overrides: [{ principals: ['batch'], policy: { resources: { maxMemory: 64 * GiB } } }] })
const alice: PolicyContext = { principal: 'alice', scopes: ['containers:write'], ownerLabel: 'docker-gateway.owner', ownershipEnabled: true }

const cases: Array<{ name: string, body: unknown, expect: 'allow' | [400 | 403, string], ctx?: PolicyContext }> = [
  { name: 'docker update --memory 256m --cpus 1 --pids-limit 100', body: CLI_UPDATE, expect: 'allow' },
  { name: 'an empty update', body: {}, expect: 'allow' },
  { name: 'zeros mean "no change"', body: { Memory: 0, NanoCpus: 0, CpuQuota: 0, CpuPeriod: 0 }, expect: 'allow' },
  { name: 'Memory above the cap', body: { Memory: 16 * GiB }, expect: [403, 'resources'] },
  { name: '"memory" in lower case above the cap', body: { memory: 16 * GiB }, expect: [403, 'resources'] },
  { name: 'Memory above the base cap for an overridden principal', body: { Memory: 16 * GiB }, expect: 'allow', ctx: { ...alice, principal: 'batch' } },
  { name: 'Memory negative', body: { Memory: -1 }, expect: [403, 'resources'] },
  { name: 'MemorySwap 1 PiB (finding 6)', body: { Memory: GiB, MemorySwap: 1024 ** 5 }, expect: [403, 'resources'] },
  { name: 'MemorySwap 1 PiB alone', body: { MemorySwap: 1024 ** 5 }, expect: [403, 'resources'] },
  { name: 'MemorySwap -1 (unlimited)', body: { MemorySwap: -1 }, expect: [403, 'resources'] },
  { name: 'MemorySwap below Memory', body: { Memory: 2 * GiB, MemorySwap: GiB }, expect: [403, 'resources'] },
  { name: 'MemorySwap within the cap', body: { Memory: GiB, MemorySwap: 2 * GiB }, expect: 'allow' },
  { name: 'MemorySwap above the base cap for an overridden principal (2 x their maxMemory)', body: { Memory: 32 * GiB, MemorySwap: 64 * GiB }, expect: 'allow', ctx: { ...alice, principal: 'batch' } },
  { name: 'BlkioDeviceReadBps naming a host file (finding 5)', body: { BlkioDeviceReadBps: [{ Path: '/etc/shadow', Rate: 1 }] }, expect: [403, 'field-denied'] },
  { name: 'NanoCpus above the cap', body: { NanoCpus: 16e9 }, expect: [403, 'resources'] },
  { name: 'CpuQuota -1 (no quota)', body: { CpuQuota: -1, CpuPeriod: 100000 }, expect: [403, 'resources'] },
  { name: 'CpuQuota alone (the current period is unknown)', body: { CpuQuota: 50000 }, expect: [403, 'resources'] },
  { name: 'CpuPeriod alone shrinks the period under an existing quota', body: { CpuPeriod: 1000 }, expect: [403, 'resources'] },
  { name: 'CpuQuota with CpuPeriod within the cap', body: { CpuQuota: 200000, CpuPeriod: 100000 }, expect: 'allow' },
  { name: 'CpuQuota with CpuPeriod above the cap', body: { CpuQuota: 500000, CpuPeriod: 100000 }, expect: [403, 'resources'] },
  { name: 'PidsLimit 0 means unlimited on update', body: { PidsLimit: 0 }, expect: [403, 'resources'] },
  { name: 'PidsLimit -1', body: { PidsLimit: -1 }, expect: [403, 'resources'] },
  { name: 'PidsLimit above the cap', body: { PidsLimit: 10000 }, expect: [403, 'resources'] },
  { name: 'CpuRealtimeRuntime', body: { CPURealtimeRuntime: 950000 }, expect: [403, 'cpu-realtime'] },
  { name: 'Devices (ignored by the daemon today, refused anyway)', body: { Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] }, expect: [403, 'devices'] },
  { name: 'DeviceCgroupRules', body: { DeviceCgroupRules: ['a *:* rwm'] }, expect: [403, 'devices'] },
  { name: 'CgroupParent', body: { CgroupParent: 'system.slice' }, expect: [403, 'cgroup-parent'] },
  { name: 'OomKillDisable', body: { OomKillDisable: true }, expect: [403, 'oom-kill-disable'] },
  { name: 'Ulimits above the cap', body: { Ulimits: [{ Name: 'nofile', Soft: 1 << 20, Hard: 1 << 20 }] }, expect: [403, 'ulimits'] },
  { name: 'RestartPolicy unless-stopped', body: { RestartPolicy: { Name: 'unless-stopped' } }, expect: 'allow' },
  { name: 'RestartPolicy on-failure:5', body: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 } }, expect: 'allow' },
  { name: 'RestartPolicy with an unknown name', body: { RestartPolicy: { Name: 'Always' } }, expect: [403, 'restart-policy'] },
  { name: 'RestartPolicy always with a retry count', body: { RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } }, expect: [403, 'restart-policy'] },
  { name: 'RestartPolicy negative retry count', body: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } }, expect: [403, 'restart-policy'] },
  { name: 'HostConfig fields are not update fields (dropped)', body: { Privileged: true, Binds: ['/:/host'] }, expect: 'allow' },
  { name: 'duplicate Memory', body: '{"Memory":1,"Memory":17179869184}', expect: [400, 'json-duplicate-key'] },
  { name: 'Memory and memory', body: '{"Memory":1,"memory":17179869184}', expect: [400, 'json-key-case'] },
  { name: 'a string body', body: '"x"', expect: [400, 'body-shape'] }
]

t.test('update decision table', async t => {
  for (const c of cases) {
    const raw = typeof c.body === 'string' ? c.body : JSON.stringify(c.body)
    const d = vetUpdate(raw, config, c.ctx ?? alice)
    if (c.expect === 'allow') t.ok(d.allow, `${c.name}${d.allow ? '' : `: ${d.message}`}`)
    else t.same(d.allow ? 'allow' : [d.status, d.rule], c.expect, `${c.name}${d.allow ? '' : `: ${d.message}`}`)
  }
})

t.test('nothing is injected into an update and unknown keys are dropped', async t => {
  const d = vetUpdate('{"Memory":1073741824,"Privileged":true}', config, alice)
  if (!d.allow) return t.fail(d.message)
  t.same(d.body, { Memory: 1073741824 })
  t.same(d.dropped, ['Privileged'])
})

t.test('update denials name top-level fields', async t => {
  const d = vetUpdate('{"PidsLimit":0}', config, alice)
  if (d.allow) return t.fail('allowed')
  t.equal(d.field, 'PidsLimit')
  t.equal(d.message, 'policy denied: PidsLimit=0 is not allowed (it means unlimited; the maximum is 4096) (rule: resources)')
})
