// What the client suites share: an HTTPS gateway in front of the run's real
// daemon, signed by a test CA, and the means to run a client as a separate
// process without blocking the event loop (the gateway lives in this process:
// a synchronous child would deadlock against it).
//
// Lives under fixtures/ so tap never runs it as a test file.
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { DaemonInfo } from '../env'
import { makeTestCa, startHttpsGateway, type HttpsGateway, type TestCa } from '../tls'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Every scope a user needs for everyday container commands, short of admin. */
export const USER_SCOPES = 'containers:read containers:write containers:export containers:exec'

export interface ClientSetup {
  ca: TestCa
  gw: HttpsGateway
  /** A token with USER_SCOPES for `sub`. */
  token: string
}

export async function startClientGateway (t: Teardown, d: DaemonInfo, sub: string, env: Record<string, string> = {}): Promise<ClientSetup> {
  const ca = await makeTestCa(t)
  const gw = await startHttpsGateway(t, ca, { GATEWAY_UPSTREAM: d.url, ...env })
  return { ca, gw, token: gw.token({ sub, scope: USER_SCOPES }) }
}

/**
 * A DOCKER_CONFIG directory whose config.json carries the token the way the
 * docker CLI and docker-py read it: {"HttpHeaders": {"Authorization": "Bearer ..."}}.
 */
export async function dockerConfigDir (t: Teardown, token: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dgw-clients-config-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({ HttpHeaders: { Authorization: `Bearer ${token}` } }), { mode: 0o600 })
  return dir
}

/**
 * This process's environment without anything that would point a client
 * elsewhere or replace its CA: DOCKER_* (host, context, API version, TLS),
 * and REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, which `requests` lets override
 * the CA file docker-py passes it (psf/requests#3829).
 */
export function cleanEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('DOCKER_') || k === 'REQUESTS_CA_BUNDLE' || k === 'CURL_CA_BUNDLE') continue
    env[k] = v
  }
  return { ...env, ...extra }
}

export interface RunResult {
  /** exit code; null when killed (see `timedOut`) */
  code: number | null
  stdout: string
  stderr: string
  /** wall time in ms */
  ms: number
  timedOut: boolean
}

/**
 * Run a program to completion, asynchronously, with `input` on its stdin
 * (stdin is closed at once when no input is given, as `< /dev/null`). Killed
 * after `timeoutMs`; a hang shows as timedOut rather than a stuck test.
 */
export async function runProcess (file: string, args: string[], opts: { env: NodeJS.ProcessEnv, input?: string | Buffer, timeoutMs?: number }): Promise<RunResult> {
  const started = Date.now()
  const child = spawn(file, args, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => { out.push(chunk) })
  child.stderr.on('data', (chunk: Buffer) => { err.push(chunk) })
  child.stdin.on('error', () => {})
  child.stdin.end(opts.input)
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, opts.timeoutMs ?? 60_000)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (c) => { resolve(c) })
  }).finally(() => { clearTimeout(timer) })
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started, timedOut }
}

/** A one-line summary of a run for assertion messages. */
export function describeRun (r: RunResult): string {
  return `exit ${String(r.code)}${r.timedOut ? ' (killed: timed out)' : ''} after ${r.ms} ms; stdout ${JSON.stringify(r.stdout.slice(0, 500))}; stderr ${JSON.stringify(r.stderr.slice(0, 500))}`
}
