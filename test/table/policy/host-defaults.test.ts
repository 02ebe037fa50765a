import t from 'tap'
import { vetCreate } from '../../../src/policy/create'
import { resolvePolicyConfig, type PolicyConfig } from '../../../src/policy/config'
import { alice, cli, hc } from '../../helpers/policy/cases'

/**
 * "Defaults that are safe on every host are injected, not assumed" (issue 10):
 * fields whose daemon default depends on the host, dockerd's flags or the
 * API version are forwarded with an explicit value, so the same body makes
 * the same container everywhere; what a body names explicitly is kept.
 */

const GiB = 1024 ** 3
const MiB = 1024 ** 2
const base = resolvePolicyConfig({})

function forwarded (body: unknown, config: PolicyConfig = base): Record<string, unknown> {
  const d = vetCreate(JSON.stringify(body), config, alice)
  if (!d.allow) throw new Error(d.message)
  return d.body.HostConfig as Record<string, unknown>
}

const pick = (h: Record<string, unknown>): Record<string, unknown> =>
  ({ CgroupnsMode: h.CgroupnsMode, IpcMode: h.IpcMode, ShmSize: h.ShmSize, Memory: h.Memory, MemorySwap: h.MemorySwap })

const CASES: Array<{ name: string, body: unknown, config?: PolicyConfig, expect: Record<string, unknown> }> = [
  { name: 'a body with no HostConfig', body: { Image: 'x' }, expect: { CgroupnsMode: 'private', IpcMode: 'private', ShmSize: 64 * MiB, Memory: GiB, MemorySwap: 2 * GiB } },
  { name: 'the docker CLI body (every field at its zero value)', body: cli({}), expect: { CgroupnsMode: 'private', IpcMode: 'private', ShmSize: 64 * MiB, Memory: GiB, MemorySwap: 2 * GiB } },
  { name: 'explicit values are kept', body: hc({ CgroupnsMode: 'private', IpcMode: 'shareable', ShmSize: 128 * MiB, Memory: 2 * GiB, MemorySwap: 3 * GiB }), expect: { CgroupnsMode: 'private', IpcMode: 'shareable', ShmSize: 128 * MiB, Memory: 2 * GiB, MemorySwap: 3 * GiB } },
  { name: 'IpcMode none is kept', body: hc({ IpcMode: 'none' }), expect: { CgroupnsMode: 'private', IpcMode: 'none', ShmSize: 64 * MiB, Memory: GiB, MemorySwap: 2 * GiB } },
  { name: 'MemorySwap injected as 2 x Memory within the cap', body: hc({ Memory: 8 * GiB }), config: resolvePolicyConfig({ resources: { maxMemorySwap: 10 * GiB } }), expect: { CgroupnsMode: 'private', IpcMode: 'private', ShmSize: 64 * MiB, Memory: 8 * GiB, MemorySwap: 10 * GiB } },
  { name: 'MemorySwap never injected below Memory (no swap rather than an error)', body: hc({ Memory: 8 * GiB }), config: resolvePolicyConfig({ resources: { maxMemory: 0, maxMemorySwap: 4 * GiB } }), expect: { CgroupnsMode: 'private', IpcMode: 'private', ShmSize: 64 * MiB, Memory: 8 * GiB, MemorySwap: 8 * GiB } },
  { name: 'a body giving only MemorySwap gets a Memory within it', body: hc({ MemorySwap: 512 * MiB }), expect: { CgroupnsMode: 'private', IpcMode: 'private', ShmSize: 64 * MiB, Memory: 512 * MiB, MemorySwap: 512 * MiB } },
  { name: 'no memory cap and no default: nothing about memory injected', body: hc({}), config: resolvePolicyConfig({ resources: { maxMemory: 0, defaultMemory: 0 } }), expect: { CgroupnsMode: 'private', IpcMode: 'private', ShmSize: 64 * MiB, Memory: undefined, MemorySwap: undefined } },
  { name: 'defaultShmSize 0 leaves ShmSize to the daemon', body: hc({}), config: resolvePolicyConfig({ resources: { defaultShmSize: 0 } }), expect: { CgroupnsMode: 'private', IpcMode: 'private', ShmSize: undefined, Memory: GiB, MemorySwap: 2 * GiB } },
  { name: 'cgroupnsMode allow-host still injects private when absent', body: hc({}), config: resolvePolicyConfig({ cgroupnsMode: 'allow-host' }), expect: { CgroupnsMode: 'private', IpcMode: 'private', ShmSize: 64 * MiB, Memory: GiB, MemorySwap: 2 * GiB } },
  { name: 'cgroupnsMode allow-host keeps an explicit host', body: hc({ CgroupnsMode: 'host' }), config: resolvePolicyConfig({ cgroupnsMode: 'allow-host' }), expect: { CgroupnsMode: 'host', IpcMode: 'private', ShmSize: 64 * MiB, Memory: GiB, MemorySwap: 2 * GiB } }
]

t.test('host-dependent defaults are injected', async t => {
  for (const c of CASES) t.same(pick(forwarded(c.body, c.config)), c.expect, c.name)
})

t.test('the config knobs are checked at load', async t => {
  t.throws(() => resolvePolicyConfig({ resources: { maxMemory: 8 * GiB, maxMemorySwap: 4 * GiB } }), /maxMemorySwap \(4294967296\) is below maxMemory/)
  t.throws(() => resolvePolicyConfig({ resources: { maxTmpfsSize: 32 * MiB } }), /defaultShmSize \(67108864\) is above maxTmpfsSize/)
  t.throws(() => resolvePolicyConfig({ cgroupnsMode: 'host' }), /cgroupnsMode/)
  t.doesNotThrow(() => resolvePolicyConfig({ resources: { maxMemorySwap: 0 } }), '0 = no swap cap')
  t.doesNotThrow(() => resolvePolicyConfig({ overrides: [{ principals: ['batch'], policy: { resources: { maxMemory: 64 * GiB } } }] }), 'raising maxMemory raises the default swap cap with it')
})
