import t from 'tap'
import { checkHealthcheck } from '../../../src/policy/healthcheck'

/** Rule `healthcheck`: each check is an exec that starts a process on the host, so no sub-second timings; bounded Retries. */

const ms = 1e6
const s = 1e9
const CASES: Array<[string, Record<string, unknown> | undefined, string[]]> = [
  ['no Healthcheck', undefined, []],
  ['the daemon defaults (all 0)', { Test: ['CMD', 'true'], Interval: 0, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 0 }, []],
  ['1 s everywhere', { Interval: s, Timeout: s, StartPeriod: s, StartInterval: s, Retries: 3 }, []],
  ['docker CLI --health-interval=30s --retries=100', { Interval: 30 * s, Retries: 100 }, []],
  ['Test NONE is forwarded as is', { Test: ['NONE'] }, []],
  ['a 1 ms interval', { Interval: ms }, ['Healthcheck.Interval']],
  ['999 ms timeout', { Timeout: 999 * ms }, ['Healthcheck.Timeout']],
  ['1 ns start period', { StartPeriod: 1 }, ['Healthcheck.StartPeriod']],
  ['a 100 ms start interval', { StartInterval: 100 * ms }, ['Healthcheck.StartInterval']],
  ['negative interval', { Interval: -1 }, ['Healthcheck.Interval']],
  ['retries 101', { Retries: 101 }, ['Healthcheck.Retries']],
  ['retries -1', { Retries: -1 }, ['Healthcheck.Retries']],
  ['everything at once', { Interval: 1, Timeout: 1, StartPeriod: 1, StartInterval: 1, Retries: 1e9 }, ['Healthcheck.Interval', 'Healthcheck.Timeout', 'Healthcheck.StartPeriod', 'Healthcheck.StartInterval', 'Healthcheck.Retries']]
]

for (const [name, hc, fields] of CASES) {
  t.test(name, async t => {
    const v = checkHealthcheck(hc === undefined ? { Image: 'x' } : { Image: 'x', Healthcheck: hc })
    t.same(v.map(x => x.field), fields)
    for (const x of v) t.equal(x.rule, 'healthcheck')
  })
}
