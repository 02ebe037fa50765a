import t from 'tap'
import { CircuitBreaker } from '../../../src/upstream/breaker'

// Each case: a script of steps against a breaker with failureThreshold 3,
// halfOpenAfterMs 1000, and the expected admission/state after each step.
type Step =
  | { at: number, do: 'admit', expect: 'ok' | 'probe' | 'refused' }
  | { at: number, do: 'fail' | 'succeed' | 'trip', state: 'closed' | 'open' | 'half-open' }

const cases: Array<{ name: string, steps: Step[] }> = [
  {
    name: 'closed admits calls; failures below the threshold keep it closed',
    steps: [
      { at: 0, do: 'admit', expect: 'ok' },
      { at: 0, do: 'fail', state: 'closed' },
      { at: 0, do: 'fail', state: 'closed' },
      { at: 0, do: 'admit', expect: 'ok' }
    ]
  },
  {
    name: 'a success resets the count of consecutive failures',
    steps: [
      { at: 0, do: 'fail', state: 'closed' },
      { at: 0, do: 'fail', state: 'closed' },
      { at: 0, do: 'succeed', state: 'closed' },
      { at: 0, do: 'fail', state: 'closed' },
      { at: 0, do: 'fail', state: 'closed' },
      { at: 0, do: 'admit', expect: 'ok' }
    ]
  },
  {
    name: 'threshold failures in a row open it; calls are refused until the half-open window',
    steps: [
      { at: 0, do: 'fail', state: 'closed' },
      { at: 0, do: 'fail', state: 'closed' },
      { at: 0, do: 'fail', state: 'open' },
      { at: 10, do: 'admit', expect: 'refused' },
      { at: 999, do: 'admit', expect: 'refused' },
      { at: 1000, do: 'admit', expect: 'probe' },
      // while the probe is out, everyone else still fails fast
      { at: 1001, do: 'admit', expect: 'refused' }
    ]
  },
  {
    name: 'a good probe closes it',
    steps: [
      { at: 0, do: 'trip', state: 'open' },
      { at: 1000, do: 'admit', expect: 'probe' },
      { at: 1005, do: 'succeed', state: 'closed' },
      { at: 1006, do: 'admit', expect: 'ok' }
    ]
  },
  {
    name: 'a failed probe re-opens it for another window',
    steps: [
      { at: 0, do: 'trip', state: 'open' },
      { at: 1000, do: 'admit', expect: 'probe' },
      { at: 1005, do: 'fail', state: 'open' },
      { at: 1500, do: 'admit', expect: 'refused' },
      { at: 2005, do: 'admit', expect: 'probe' }
    ]
  },
  {
    name: 'a lost probe (no outcome) does not keep it open forever',
    steps: [
      { at: 0, do: 'trip', state: 'open' },
      { at: 1000, do: 'admit', expect: 'probe' },
      { at: 1500, do: 'admit', expect: 'refused' },
      { at: 2000, do: 'admit', expect: 'probe' }
    ]
  },
  {
    name: 'the health check trips it at once, whatever the failure count',
    steps: [
      { at: 0, do: 'admit', expect: 'ok' },
      { at: 0, do: 'trip', state: 'open' },
      { at: 1, do: 'admit', expect: 'refused' }
    ]
  },
  {
    name: 'the health check closes it when the daemon answers again',
    steps: [
      { at: 0, do: 'trip', state: 'open' },
      { at: 200, do: 'succeed', state: 'closed' },
      { at: 201, do: 'admit', expect: 'ok' }
    ]
  }
]

for (const c of cases) {
  t.test(c.name, async t => {
    let now = 0
    const b = new CircuitBreaker({ failureThreshold: 3, halfOpenAfterMs: 1000 }, () => now)
    for (const [i, s] of c.steps.entries()) {
      now = s.at
      if (s.do === 'admit') {
        const a = b.admit()
        const got = a.ok ? (a.probe ? 'probe' : 'ok') : 'refused'
        t.equal(got, s.expect, `step ${i}: admit at ${s.at}`)
      } else {
        if (s.do === 'fail') b.onFailure('ECONNREFUSED')
        else if (s.do === 'succeed') b.onSuccess()
        else b.trip('health check failed: ECONNREFUSED')
        t.equal(b.state === 'half-open' ? 'half-open' : b.state, s.state, `step ${i}: ${s.do} at ${s.at}`)
      }
    }
  })
}

t.test('a refusal carries the reason and when to retry', async t => {
  let now = 0
  const b = new CircuitBreaker({ failureThreshold: 1, halfOpenAfterMs: 1000 }, () => now)
  b.onFailure('ECONNREFUSED')
  now = 250
  const a = b.admit()
  t.same(a, { ok: false, reason: 'ECONNREFUSED', retryAfterMs: 750 })
  t.equal(b.since, 0)
})
