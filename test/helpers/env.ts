// What the run-level setup (test/harness/before.ts) provides to test files:
// the primary Docker daemon, redis, and whether more private daemons can be
// started. Integration tests start with requireDaemon(t) / requireRedis(t).
//
//   const d = requireDaemon(t)      // skips the file loudly (fails in CI) without a daemon
//   if (d) {
//     t.test('...', async t => { ... d.url ... })
//   }
import { dockerdInstalled } from '../harness/dockerd'
import { TEST_IMAGE } from '../harness/image'
import { parseDockerHost, readState, statePath, type DaemonInfo, type HarnessState } from '../harness/state'

export type { DaemonInfo, HarnessState }
export { startDaemon, type Daemon, type DaemonOptions } from '../harness/dockerd'

/** The subset of a tap Test these helpers use. */
export interface TapLike {
  pass (message: string, extra: { skip: string }): unknown
  fail (message: string): unknown
}

const inCI = (): boolean => process.env.CI === 'true' || process.env.CI === '1'

let cached: HarnessState | undefined

/** Forget the state read so far (for tests of these helpers). */
export function resetHarnessState (): void {
  cached = undefined
}

/**
 * The state written by before.ts for this tap run. A file run outside tap
 * (plain node) gets a state built from DOCKER_TEST_HOST, if set.
 */
export function harnessState (): HarnessState {
  if (cached) return cached
  const state = readState()
  if (state) {
    cached = state
    return state
  }
  const given = process.env.DOCKER_TEST_HOST
  let daemon: DaemonInfo | null = null
  let problem: string | null = `no harness state at ${statePath()}: run tests through tap (npx tap FILE), whose .taprc runs test/harness/before.ts, or set DOCKER_TEST_HOST`
  if (given) {
    try {
      daemon = parseDockerHost(given, TEST_IMAGE)
      problem = null
    } catch (err) {
      problem = (err as Error).message
    }
  }
  cached = {
    version: 1,
    runnerPid: process.ppid,
    createdAt: new Date().toISOString(),
    daemon,
    daemonProblem: problem,
    dockerdInstalled: dockerdInstalled(),
    redis: null,
    redisProblem: 'no harness state: redis is started by test/harness/before.ts',
    redisInstalled: false
  }
  return cached
}

/** The primary daemon (shared by all test files of the run). Throws when there is none: call requireDaemon(t) first. */
export function daemon (): DaemonInfo {
  const s = harnessState()
  if (!s.daemon) throw new Error(`no Docker daemon for tests: ${s.daemonProblem ?? 'unknown reason'}`)
  return s.daemon
}

/** The daemon as a gateway host address: its unix socket when the harness made one (what a socket proxy would use), else its URL. */
export function daemonAddress (d: DaemonInfo): string {
  return d.socketPath !== null ? `unix://${d.socketPath}` : d.url
}

/** redis://127.0.0.1:PORT of the run's private redis-server. Throws when there is none: call requireRedis(t) first. */
export function redisUrl (): string {
  const s = harnessState()
  if (!s.redis) throw new Error(`no redis for tests: ${s.redisProblem ?? 'unknown reason'}`)
  return s.redis.url
}

function unavailable (t: TapLike, what: string, problem: string, mayOnlySkip: boolean): undefined {
  const msg = `!!! ${what} NOT AVAILABLE: ${problem}`
  // Only a machine that lacks the software may skip; in CI, or when the
  // software is there but broken, the tests must not pass by skipping.
  if (mayOnlySkip && !inCI()) t.pass(msg, { skip: 'integration tests SKIPPED' })
  else t.fail(`${msg}${inCI() ? ' (CI=true: integration tests must run)' : ''}`)
  return undefined
}

/**
 * The primary daemon, or undefined after recording a skip (no dockerd
 * installed, not CI) or a failure (CI, or a daemon that should be there but
 * is broken). Use the return value to guard the file's tests.
 */
export function requireDaemon (t: TapLike): DaemonInfo | undefined {
  const s = harnessState()
  if (s.daemon) return s.daemon
  const notInstalled = !s.dockerdInstalled && !process.env.DOCKER_TEST_HOST
  return unavailable(t, 'DOCKER DAEMON', s.daemonProblem ?? 'unknown reason', notInstalled)
}

/** The redis URL, or undefined after recording a skip (redis-server not installed, not CI) or a failure. */
export function requireRedis (t: TapLike): string | undefined {
  const s = harnessState()
  if (s.redis) return s.redis.url
  return unavailable(t, 'REDIS', s.redisProblem ?? 'unknown reason', !s.redisInstalled)
}

/**
 * True when the test may start private daemons of its own with startDaemon()
 * (dockerd installed and we are root); otherwise records a skip (or, in CI, a failure).
 */
export function requireDockerd (t: TapLike): boolean {
  if (process.getuid?.() !== 0) {
    return unavailable(t, 'PRIVATE DOCKERD', 'starting dockerd needs root', true) ?? false
  }
  if (dockerdInstalled()) return true
  return unavailable(t, 'PRIVATE DOCKERD', 'dockerd is not installed (apt-get install docker.io)', true) ?? false
}
