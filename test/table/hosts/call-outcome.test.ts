import t from 'tap'
import { callError, callOutcome, readCapped, recordOutcome } from '../../../src/upstream/call'
import { CircuitBreaker } from '../../../src/upstream/breaker'

// What one failed call of a host's client says about the daemon (its
// breaker's input), and what the caller gets. An HTTP answer of any status
// never reaches these: host.call returns it and the breaker hears success.
const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code })
const plain = { callerAborted: false, deadlineHit: false }

const cases: Array<{ name: string, error: unknown, how?: Partial<typeof plain>, counts: 'failure' | 'nothing' | 'client', reason?: string, status: number }> = [
  { name: 'connection refused', error: err('ECONNREFUSED'), counts: 'failure', reason: 'ECONNREFUSED', status: 502 },
  { name: 'connect timeout', error: err('UND_ERR_CONNECT_TIMEOUT'), counts: 'failure', reason: 'UND_ERR_CONNECT_TIMEOUT', status: 504 },
  { name: 'no response head in time (a hung daemon)', error: err('UND_ERR_HEADERS_TIMEOUT'), counts: 'failure', reason: 'UND_ERR_HEADERS_TIMEOUT', status: 504 },
  { name: 'body stalled', error: err('UND_ERR_BODY_TIMEOUT'), counts: 'failure', reason: 'UND_ERR_BODY_TIMEOUT', status: 504 },
  { name: 'connection reset', error: err('ECONNRESET'), counts: 'failure', reason: 'ECONNRESET', status: 502 },
  { name: 'socket closed mid-answer', error: err('UND_ERR_SOCKET'), counts: 'failure', reason: 'UND_ERR_SOCKET', status: 502 },
  { name: 'the call deadline passed', error: new DOMException('timeout', 'TimeoutError'), how: { deadlineHit: true }, counts: 'failure', reason: 'deadline exceeded', status: 504 },
  { name: 'the caller went away (its signal)', error: new DOMException('aborted', 'AbortError'), how: { callerAborted: true }, counts: 'client', status: 0 },
  { name: 'an argument undici refused: a gateway bug, not the daemon', error: err('UND_ERR_INVALID_ARG'), counts: 'nothing', status: 502 },
  { name: 'the pool was closed by a reload or shutdown', error: err('UND_ERR_CLOSED'), counts: 'nothing', status: 502 },
  { name: 'the pool was destroyed', error: err('UND_ERR_DESTROYED'), counts: 'nothing', status: 502 }
]

for (const c of cases) {
  t.test(c.name, async t => {
    const how = { ...plain, ...c.how }
    const breaker = new CircuitBreaker({ failureThreshold: 1, halfOpenAfterMs: 1000 })
    const outcome = callOutcome(c.error, how)
    if (outcome !== undefined) recordOutcome(breaker, outcome)
    if (c.counts === 'failure') {
      t.equal(breaker.state, 'open', 'counts against the daemon')
      t.equal(breaker.reason, c.reason)
    } else {
      t.equal(breaker.state, 'closed', 'not counted')
      t.equal(breaker.consecutiveFailures, 0)
      if (c.counts === 'client') t.same(outcome, { clientAborted: true })
      else t.equal(outcome, undefined)
    }
    if (c.status > 0) {
      const e = callError(c.error, 'a', { ...how, deadlineMs: 1500 })
      t.equal(e.statusCode, c.status, 'Docker-shaped status')
      t.match(e.message, /"a"/, 'names the host')
      if (c.reason !== undefined) t.equal(e.reason, c.reason)
    }
  })
}

t.test('a deadline error says how long the daemon had', async t => {
  t.equal(callError(new Error('x'), 'a', { deadlineHit: true, deadlineMs: 1500 }).message, 'Docker daemon "a" did not answer within 1500 ms')
  t.equal(callError(err('ECONNREFUSED'), 'a', plain).message, 'cannot reach Docker daemon "a": ECONNREFUSED')
})

t.test('a success closes the count of failures; a client abort leaves it as it was', async t => {
  const breaker = new CircuitBreaker({ failureThreshold: 3, halfOpenAfterMs: 1000 })
  recordOutcome(breaker, { error: err('ECONNREFUSED') })
  recordOutcome(breaker, { clientAborted: true })
  t.equal(breaker.consecutiveFailures, 1)
  recordOutcome(breaker, {})
  t.equal(breaker.consecutiveFailures, 0)
})

t.test('readCapped stops past the limit', async t => {
  async function * chunks (): AsyncGenerator<Buffer> { yield Buffer.from('abc'); yield Buffer.from('def') }
  t.equal(await readCapped(chunks(), 6), 'abcdef')
  t.equal(await readCapped(chunks(), 5), undefined)
  t.equal(await readCapped(chunks()), 'abcdef', 'no limit by default')
})
