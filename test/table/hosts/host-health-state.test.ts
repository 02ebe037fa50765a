import t from 'tap'
import { applyCheck, initialHealth, type CheckResult, type HostHealth, type HostState } from '../../../src/upstream/health'

const opts = { intervalMs: 1000, timeoutMs: 500, fall: 2, rise: 2, degradedLatencyMs: 100 }
const ok = (latencyMs = 5, apiVersion = '1.41'): CheckResult => ({ ok: true, latencyMs, apiVersion })
const bad = (error = 'ECONNREFUSED'): CheckResult => ({ ok: false, latencyMs: 1, error })

// Each case: a sequence of check results (and whether calls were failing at
// that time), with the state expected after each.
const cases: Array<{ name: string, checks: Array<[CheckResult, HostState, boolean?]> }> = [
  { name: 'a fast answer is up', checks: [[ok(), 'up']] },
  { name: 'a slow answer is degraded', checks: [[ok(150), 'degraded'], [ok(20), 'up']] },
  { name: 'pings answer but calls fail: degraded', checks: [[ok(5), 'degraded', false], [ok(5), 'up', true]] },
  { name: 'one lost ping is degraded, fall of them is down', checks: [[ok(), 'up'], [bad(), 'degraded'], [bad(), 'down'], [bad(), 'down']] },
  { name: 'a lost ping between good ones recovers', checks: [[ok(), 'up'], [bad('timeout'), 'degraded'], [ok(), 'up']] },
  { name: 'a down host needs rise good checks to be up', checks: [[bad(), 'degraded'], [bad(), 'down'], [ok(), 'down'], [ok(), 'up']] },
  { name: 'a failure interrupts the rise', checks: [[bad(), 'degraded'], [bad(), 'down'], [ok(), 'down'], [bad(), 'down'], [ok(), 'down'], [ok(), 'up']] },
  { name: 'never answered: first failure is degraded (not yet known down)', checks: [[bad(), 'degraded']] }
]

for (const c of cases) {
  t.test(c.name, async t => {
    let h: HostHealth = initialHealth()
    t.equal(h.state, 'unknown')
    let now = 1000
    for (const [i, [result, want, circuitClosed]] of c.checks.entries()) {
      h = applyCheck(h, result, now, opts, circuitClosed ?? true)
      t.equal(h.state, want, `check ${i}`)
      t.equal(h.lastCheck, now)
      now += 1000
    }
  })
}

t.test('the API version is learnt from the ping and kept across failures', async t => {
  let h = applyCheck(initialHealth(), ok(5, '1.43'), 1, opts)
  t.equal(h.apiVersion, '1.43')
  h = applyCheck(h, bad('ECONNRESET'), 2, opts)
  t.equal(h.apiVersion, '1.43')
  t.equal(h.error, 'ECONNRESET')
  h = applyCheck(h, ok(5, '1.44'), 3, opts)
  t.equal(h.apiVersion, '1.44')
  t.equal(h.error, undefined)
})
