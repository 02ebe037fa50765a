// Shared set-up for the many-hosts tests: N private dockerd instances (each
// with its own data root, exec root, pid file, port and bridge, from the
// harness) and a gateway whose config file names them as hosts.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { request } from 'undici'
import { stringify } from 'yaml'
import { startDaemon, dockerdInstalled, type Daemon } from '../../harness/dockerd'
import { startGateway, type TestGateway } from '../gateway'

export { dockerdInstalled }

/** Skip reason when no dockerd is installed (CI installs it: there these tests always run). */
export const NO_DOCKERD = dockerdInstalled()
  ? false
  : '!!! dockerd is not installed: the many-hosts integration tests did NOT run (apt-get install docker.io busybox-static) !!!'

export interface Fleet {
  gw: TestGateway
  daemons: Record<string, Daemon>
  configFile: string
  /** Rewrite the config file with these hosts (name -> daemon). */
  writeConfig: (hosts: Record<string, Daemon>) => void
}

/** Fast health checks so state changes show within about a second. */
export const FAST_HEALTH = { intervalMs: 250, timeoutMs: 300, fall: 2, rise: 1, degradedLatencyMs: 250 }

interface Teardown { teardown: (fn: () => unknown) => void }

export async function startDaemons (t: Teardown, names: string[]): Promise<Record<string, Daemon>> {
  const started: Daemon[] = []
  // Registered before starting so a failure half-way still tears down what started.
  t.teardown(async () => { await Promise.all(started.map(async d => { await d.destroy() })) })
  const list = await Promise.all(names.map(async n => {
    const d = await startDaemon({ name: `hosts-${n}` })
    started.push(d)
    return d
  }))
  // In the order asked for: the first is the default host.
  return Object.fromEntries(names.map((n, i) => [n, list[i] as Daemon]))
}

export function fleetConfig (hosts: Record<string, Daemon>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hosts: Object.fromEntries(Object.entries(hosts).map(([n, d]) => [n, { url: d.url }])),
    healthCheck: FAST_HEALTH,
    circuitBreaker: { failureThreshold: 2, halfOpenAfterMs: 2000 },
    fleet: { deadlineMs: 2000 },
    ...extra
  }
}

export async function startFleet (t: Teardown, names: string[] = ['a', 'b', 'c'], extra: Record<string, unknown> = {}): Promise<Fleet> {
  const daemons = await startDaemons(t, names)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgw-fleet-'))
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  const configFile = path.join(dir, 'gateway.yaml')
  const writeConfig = (hosts: Record<string, Daemon>): void => {
    fs.writeFileSync(configFile, stringify(fleetConfig(hosts, extra)))
  }
  writeConfig(daemons)
  const gw = await startGateway(t, { GATEWAY_CONFIG: configFile })
  return { gw, daemons, configFile, writeConfig }
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: any
  ms: number
}

/** One call through the gateway, timed; body parsed as JSON when it is JSON. */
export async function call (gw: TestGateway, path: string, opts: { method?: string, token?: string, json?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? gw.token()}` }
  let body: string | undefined
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json)
    headers['content-type'] = 'application/json'
  }
  const t0 = performance.now()
  const res = await request(gw.url + path, { method: (opts.method ?? 'GET') as 'GET', headers, body })
  const text = await res.body.text()
  const ms = performance.now() - t0
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch {}
  return { status: res.statusCode, headers: res.headers, body: parsed, ms }
}

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Poll until fn() is truthy; returns the elapsed ms. */
export async function until (fn: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const t0 = Date.now()
  for (;;) {
    if (await fn()) return Date.now() - t0
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}
