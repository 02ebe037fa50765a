import t from 'tap'
import { checkTopAnswer, checkedTop, parseTopAnswer, type TopAnswer, type TopFetch } from '../../../src/docker/top'

/** The outcome check of `top` with ps_args (src/docker/top.ts), on rigged daemon answers. */
const own = new Set([100, 101, 102])
const answer = (Titles: string[], Processes: string[][]): TopAnswer => ({ Titles, Processes })

const cases: Array<[string, TopAnswer, string | undefined]> = [
  ['own rows', answer(['UID', 'PID', 'CMD'], [['root', '100', 'sleep 1'], ['root', '102', 'sh']]), undefined],
  ['no rows', answer(['PID', 'COMMAND'], []), undefined],
  ['a foreign PID', answer(['UID', 'PID', 'CMD'], [['root', '100', 'sleep'], ['root', '4242', 'dockerd SECRET=x']]), '1 row(s) with a PID outside'],
  ['no PID column', answer(['UID', 'CMD'], [['root', 'sleep']]), 'no PID column'],
  ['PID only as a lower-case title', answer(['pid', 'CMD'], [['100', 'sleep']]), 'no PID column'],
  ['two PID columns (a rename)', answer(['COMMAND', 'PID', 'PID', 'USER'], [['x', '100', '-', 'root']]), '2 PID columns'],
  ['a row shorter than the titles', answer(['UID', 'PID', 'CMD'], [['root', '100']]), 'row 0 has 2 cells for 3 titles'],
  ['a row longer than the titles', answer(['PID', 'CMD'], [['100', 'a', 'b']]), 'row 0 has 3 cells for 2 titles'],
  ['a thread row "-"', answer(['PID', 'CMD'], [['100', 'a'], ['-', 'b']]), 'row 1 has a PID that is not a number'],
  ['a word as PID', answer(['PID', 'CMD'], [['exec', 'a']]), 'not a number'],
  ['a signed PID', answer(['PID', 'CMD'], [['+100', 'a']]), 'not a number'],
  ['a PID with spaces', answer(['PID', 'CMD'], [[' 100', 'a']]), 'not a number'],
  ['an empty PID', answer(['PID', 'CMD'], [['', 'a']]), 'not a number']
]
for (const [what, a, reason] of cases) {
  t.test(what, async t => {
    const r = checkTopAnswer(a, own)
    if (reason === undefined) t.same(r, { ok: true })
    else {
      t.equal(r.ok, false)
      if (!r.ok) t.match(r.reason, reason)
    }
  })
}

t.test('parseTopAnswer: shape checks', async t => {
  t.same(parseTopAnswer('{"Titles":["PID"],"Processes":null}'), { Titles: ['PID'], Processes: [] }, "Go's nil slice")
  t.same(parseTopAnswer('{"Titles":["PID"]}'), { Titles: ['PID'], Processes: [] })
  t.match(parseTopAnswer('nope'), { error: 'not JSON' })
  t.match(parseTopAnswer('[]'), { error: 'not an object' })
  t.match(parseTopAnswer('{"Titles":"PID"}'), { error: 'no list of titles' })
  t.match(parseTopAnswer('{"Titles":[1]}'), { error: 'no list of titles' })
  t.match(parseTopAnswer('{"Titles":["PID"],"Processes":{}}'), { error: 'no list of processes' })
  t.match(parseTopAnswer('{"Titles":["PID"],"Processes":[[100]]}'), { error: 'not a list of strings' })
  t.match(parseTopAnswer('{"Titles":["PID"],"Processes":["100"]}'), { error: 'not a list of strings' })
})

/** A rigged daemon: the fixed top answers come from `fixed` in turn, the caller's from `caller`. */
function rig (fixed: Array<{ status: number, text: string | undefined }>, caller: { status: number, text: string | undefined }): { fetch: TopFetch, paths: string[] } {
  const paths: string[] = []
  return {
    paths,
    fetch: async (path) => {
      paths.push(path)
      return path === '/fixed' ? fixed.shift() ?? { status: 500, text: '{"message":"no more"}' } : caller
    }
  }
}
const ef = (pids: number[]): string => JSON.stringify({ Titles: ['UID', 'PID', 'CMD'], Processes: pids.map(p => ['root', String(p), 'x']) })
const ok = (text: string) => ({ status: 200, text })

t.test('checkedTop: fixed, caller, fixed; answer re-serialised from what was checked', async t => {
  const r = rig([ok(ef([100])), ok(ef([100]))], ok('{"Titles":["PID","COMMAND"],"Processes":[["100","sleep"]],"Extra":"dropped"}'))
  t.same(await checkedTop(r.fetch, '/fixed', '/caller'), { kind: 'answer', status: 200, body: '{"Processes":[["100","sleep"]],"Titles":["PID","COMMAND"]}' })
  t.same(r.paths, ['/fixed', '/caller', '/fixed'])
})

t.test('checkedTop: a process started between the fixed calls is the container\'s', async t => {
  const r = rig([ok(ef([100])), ok(ef([100, 101]))], ok(ef([100, 101])))
  t.equal((await checkedTop(r.fetch, '/fixed', '/caller')).kind, 'answer')
})

t.test('checkedTop: a PID in neither fixed answer fails the call, closed', async t => {
  const r = rig([ok(ef([100])), ok(ef([100]))], ok(ef([100, 1])))
  t.same(await checkedTop(r.fetch, '/fixed', '/caller'), { kind: 'refused', reason: '1 row(s) with a PID outside the container' })
})

t.test('checkedTop: a failed second fixed call leaves the first set', async t => {
  const good = rig([ok(ef([100])), { status: 409, text: '{"message":"not running"}' }], ok(ef([100])))
  t.equal((await checkedTop(good.fetch, '/fixed', '/caller')).kind, 'answer')
  const bad = rig([ok(ef([100])), { status: 409, text: '{"message":"not running"}' }], ok(ef([100, 101])))
  t.equal((await checkedTop(bad.fetch, '/fixed', '/caller')).kind, 'refused')
})

t.test('checkedTop: daemon errors are relayed; the caller is not asked when the fixed call fails', async t => {
  const stopped = rig([{ status: 409, text: '{"message":"Container abc is not running"}' }], ok(ef([1])))
  t.same(await checkedTop(stopped.fetch, '/fixed', '/caller'), { kind: 'answer', status: 409, body: '{"message":"Container abc is not running"}' })
  t.same(stopped.paths, ['/fixed'])
  const psFailed = rig([ok(ef([100]))], { status: 500, text: '{"message":"ps: exit status 1"}' })
  t.same(await checkedTop(psFailed.fetch, '/fixed', '/caller'), { kind: 'answer', status: 500, body: '{"message":"ps: exit status 1"}' })
})

t.test('checkedTop: unreadable or oversized answers are refused', async t => {
  t.match(await checkedTop(rig([ok('{"Titles":["UID"]}')], ok(ef([100]))).fetch, '/fixed', '/caller'), { kind: 'refused', reason: /argument-free top unreadable: no PID column/ })
  t.match(await checkedTop(rig([ok(ef([100])), ok(ef([100]))], { status: 200, text: undefined }).fetch, '/fixed', '/caller'), { kind: 'refused', reason: /larger than/ })
  t.match(await checkedTop(rig([ok(ef([100])), ok(ef([100]))], ok('<html>')).fetch, '/fixed', '/caller'), { kind: 'refused', reason: /not JSON/ })
})
