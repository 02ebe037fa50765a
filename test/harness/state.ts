// How test processes learn what the run-level setup (before.ts) started.
// Environment variables set in a tap `before` script do not reach the test
// processes (it is a sibling process), so before.ts writes this file and
// tests read it. It is keyed by the tap runner's pid, which is the parent of
// before.ts, of every test process and of after.ts: concurrent runs in the
// same checkout do not see each other's daemons.
import fs from 'node:fs'
import path from 'node:path'

export interface DaemonInfo {
  /** tcp://127.0.0.1:PORT (or unix:///path when DOCKER_TEST_HOST is a socket) */
  url: string
  /** http://127.0.0.1:PORT; null when only a unix socket is known */
  httpUrl: string | null
  port: number | null
  /** the daemon's unix socket, when the harness started it (null for a reused daemon on tcp) */
  socketPath: string | null
  image: string
  /** started by this run (true) or reused from DOCKER_TEST_HOST (false) */
  private: boolean
  /** br-dgwN for a private daemon */
  bridge: string | null
  /** N of br-dgwN / the record, for after.ts */
  index: number | null
}

export interface HarnessState {
  version: 1
  runnerPid: number
  createdAt: string
  daemon: DaemonInfo | null
  /** why there is no daemon */
  daemonProblem: string | null
  /** whether tests may start more private daemons */
  dockerdInstalled: boolean
  redis: { url: string, port: number, private: boolean } | null
  redisProblem: string | null
  redisInstalled: boolean
}

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..')

export function statePath (runnerPid = process.ppid): string {
  return process.env.DGW_HARNESS_STATE ?? path.join(PROJECT_ROOT, '.tap', 'harness', `run-${runnerPid}.json`)
}

export function writeState (state: HarnessState): string {
  const file = statePath(state.runnerPid)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(state, null, 2) + '\n')
  return file
}

export function readState (runnerPid = process.ppid): HarnessState | undefined {
  try {
    return JSON.parse(fs.readFileSync(statePath(runnerPid), 'utf8')) as HarnessState
  } catch {
    return undefined
  }
}

/** Parse DOCKER_TEST_HOST (tcp://host:port, http://host:port or unix:///path). */
export function parseDockerHost (value: string, image: string): DaemonInfo {
  const u = new URL(value)
  if (u.protocol === 'unix:') {
    return { url: value, httpUrl: null, port: null, socketPath: u.pathname, image, private: false, bridge: null, index: null }
  }
  if (u.protocol !== 'tcp:' && u.protocol !== 'http:') throw new Error(`DOCKER_TEST_HOST must be tcp://, http:// or unix://, got ${value}`)
  const port = Number(u.port || 2375)
  return { url: `tcp://${u.hostname}:${port}`, httpUrl: `http://${u.hostname}:${port}`, port, socketPath: null, image, private: false, bridge: null, index: null }
}
