// requireDaemon / requireRedis / requireDockerd decide between running,
// skipping (software not installed, not CI) and failing (CI=true, or the
// software is there but broken): integration tests must never pass in CI by
// skipping.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { requireDaemon, requireRedis, resetHarnessState, type HarnessState } from '../helpers/env'

interface Recorded { skips: string[], fails: string[] }
const fakeT = (): Recorded & { pass: (m: string, extra: { skip: string }) => void, fail: (m: string) => void } => {
  const r: Recorded = { skips: [], fails: [] }
  return {
    pass: (m: string, extra: { skip: string }) => { if (extra.skip) r.skips.push(m) },
    fail: (m: string) => { r.fails.push(m) },
    get skips () { return r.skips },
    get fails () { return r.fails }
  }
}

const daemonInfo = { url: 'tcp://127.0.0.1:1', httpUrl: 'http://127.0.0.1:1', port: 1, socketPath: null, image: 'dgw-busybox:test', private: false, bridge: null, index: null }
const base: HarnessState = {
  version: 1, runnerPid: 1, createdAt: '', daemon: null, daemonProblem: 'test problem', dockerdInstalled: false,
  redis: null, redisProblem: 'redis problem', redisInstalled: false
}

const cases: Array<{ name: string, state: Partial<HarnessState>, ci: boolean, testHost?: string, want: 'run' | 'skip' | 'fail' }> = [
  { name: 'daemon present', state: { daemon: daemonInfo, daemonProblem: null }, ci: true, want: 'run' },
  { name: 'dockerd not installed, local', state: {}, ci: false, want: 'skip' },
  { name: 'dockerd not installed, CI', state: {}, ci: true, want: 'fail' },
  { name: 'dockerd installed but failed to start, local', state: { dockerdInstalled: true }, ci: false, want: 'fail' },
  { name: 'DOCKER_TEST_HOST given but unusable, local', state: {}, ci: false, testHost: 'tcp://127.0.0.1:1', want: 'fail' }
]

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgw-require-'))
const saved = { state: process.env.DGW_HARNESS_STATE, ci: process.env.CI, host: process.env.DOCKER_TEST_HOST }
t.teardown(() => {
  fs.rmSync(dir, { recursive: true, force: true })
  for (const [k, v] of [['DGW_HARNESS_STATE', saved.state], ['CI', saved.ci], ['DOCKER_TEST_HOST', saved.host]] as const) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  resetHarnessState()
})

const setEnv = (k: string, v: string | undefined): void => {
  if (v === undefined) delete process.env[k]
  else process.env[k] = v
}

for (const [i, c] of cases.entries()) {
  t.test(`requireDaemon: ${c.name} -> ${c.want}`, async t => {
    const file = path.join(dir, `state-${i}.json`)
    fs.writeFileSync(file, JSON.stringify({ ...base, ...c.state }))
    setEnv('DGW_HARNESS_STATE', file)
    setEnv('CI', c.ci ? 'true' : undefined)
    setEnv('DOCKER_TEST_HOST', c.testHost)
    resetHarnessState()
    const ft = fakeT()
    const got = requireDaemon(ft)
    const outcome = got ? 'run' : ft.fails.length > 0 ? 'fail' : ft.skips.length > 0 ? 'skip' : 'nothing'
    t.equal(outcome, c.want)
    for (const m of [...ft.skips, ...ft.fails]) t.match(m, /DOCKER DAEMON NOT AVAILABLE: test problem/, 'the message says why')
  })
}

t.test('requireRedis: not installed skips locally, fails in CI', async t => {
  const file = path.join(dir, 'state-redis.json')
  fs.writeFileSync(file, JSON.stringify(base))
  setEnv('DGW_HARNESS_STATE', file)
  setEnv('CI', undefined)
  resetHarnessState()
  const local = fakeT()
  t.equal(requireRedis(local), undefined)
  t.equal(local.skips.length, 1)
  setEnv('CI', 'true')
  const ci = fakeT()
  t.equal(requireRedis(ci), undefined)
  t.equal(ci.fails.length, 1)
})
