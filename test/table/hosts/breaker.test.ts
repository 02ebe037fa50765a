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

/**
 * Two workers' breakers for one host, wired as src/cluster wires them: what
 * one learns (onEvent) the other mirrors. The gateway opens after
 * failureThreshold consecutive failures in all, wherever they happen, closes
 * everywhere on one success, and says nothing on a success that is no news.
 */
t.test('breakers of two workers share what they learn', async t => {
  const cases: Array<{ name: string, steps: Array<[worker: 0 | 1, what: 'fail' | 'succeed' | 'trip']>, states: [string, string], messages: number }> = [
    { name: 'three failures over two workers open both', steps: [[0, 'fail'], [1, 'fail'], [0, 'fail']], states: ['open', 'open'], messages: 3 },
    { name: 'a success in between resets both counts', steps: [[0, 'fail'], [1, 'fail'], [1, 'succeed'], [0, 'fail'], [1, 'fail']], states: ['closed', 'closed'], messages: 5 },
    { name: 'a health-check trip opens both', steps: [[1, 'trip']], states: ['open', 'open'], messages: 1 },
    { name: 'a success closes both', steps: [[0, 'trip'], [1, 'succeed']], states: ['closed', 'closed'], messages: 2 },
    { name: 'successes while all is well are no news', steps: [[0, 'succeed'], [1, 'succeed'], [0, 'succeed']], states: ['closed', 'closed'], messages: 0 }
  ]
  for (const c of cases) {
    let messages = 0
    const pair = [0, 1].map(() => new CircuitBreaker({ failureThreshold: 3, halfOpenAfterMs: 1000 }, () => 0))
    pair.forEach((b, i) => {
      b.onEvent = (event, reason) => { messages++; (pair[1 - i] as CircuitBreaker).mirror(event, reason) }
    })
    for (const [w, what] of c.steps) {
      const b = pair[w] as CircuitBreaker
      if (what === 'fail') b.onFailure('ECONNRESET')
      else if (what === 'succeed') b.onSuccess()
      else b.trip('health check failed: ECONNREFUSED')
    }
    t.same(pair.map(b => b.state), c.states, `${c.name}: states`)
    t.equal(messages, c.messages, `${c.name}: messages between workers`)
  }
})
