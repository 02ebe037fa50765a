import t from 'tap'
import { resolvePolicyConfig } from '../../../src/policy/config'
import { checkResources } from '../../../src/policy/resources'
import { vetUpdate } from '../../../src/policy/update'
import { alice } from '../../helpers/policy/cases'

/**
 * Rule `resources`, weights (issue 10 review): CpuShares and BlkioWeight share
 * the host among siblings under contention. At most the default weight (1024,
 * 500): a tenant may lower its share, not raise it above everyone else's.
 */

const limits = resolvePolicyConfig({}).resources
const CASES: Array<[string, Record<string, number>, string[]]> = [
  ['defaults (0)', { CpuShares: 0, BlkioWeight: 0 }, []],
  ['at the default weights', { CpuShares: 1024, BlkioWeight: 500 }, []],
  ['lowered', { CpuShares: 2, BlkioWeight: 10 }, []],
  ['CpuShares 1025', { CpuShares: 1025 }, ['CpuShares']],
  ['CpuShares 262144 (the kernel maximum)', { CpuShares: 262144 }, ['CpuShares']],
  ['BlkioWeight 501', { BlkioWeight: 501 }, ['BlkioWeight']],
  ['BlkioWeight 1000', { BlkioWeight: 1000 }, ['BlkioWeight']],
  ['negative', { CpuShares: -1, BlkioWeight: -1 }, ['CpuShares', 'BlkioWeight']]
]
for (const [name, r, keys] of CASES) {
  t.test(name, async t => {
    for (const [mode, prefix] of [['create', 'HostConfig.'], ['update', '']] as const) {
      const v = checkResources(r, limits, mode, prefix)
      t.same(v.map(x => x.field), keys.map(k => prefix + k), mode)
      for (const x of v) t.equal(x.rule, 'resources')
    }
  })
}

t.test('an update cannot raise the weights either', async t => {
  const d = vetUpdate(JSON.stringify({ CpuShares: 4096 }), resolvePolicyConfig({}), alice)
  t.equal(d.allow, false)
  if (!d.allow) t.match(d.message, /^policy denied: CpuShares=4096 is not allowed .*at most 1024.*\(rule: resources\)$/)
})
