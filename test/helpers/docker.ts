// Direct Engine API calls to a daemon (by default the run's primary one), to
// assert what the daemon really ended up doing, independent of the gateway.
//
//   const label = testLabel(__filename)                 // dgw.test=<file>-<random>
//   t.teardown(() => cleanupLabel(label))
//   const res = await docker('/containers/create', { json: { Image: daemon().image, Labels: label.labels } })
//   const c = await docker(`/containers/${res.body.Id}/json`)
//   t.equal(c.body.State.Running, false)
import crypto from 'node:crypto'
import path from 'node:path'
import type { IncomingHttpHeaders } from 'node:http'
import { engineRequest, type EngineInit, type EngineTarget } from '../harness/engine'
import { daemon } from './env'

export type { EngineTarget }

export interface DockerInit extends EngineInit {
  /** another daemon than the primary (e.g. one from startDaemon()) */
  target?: EngineTarget
}

export interface DockerResponse<T = any> {
  status: number
  headers: IncomingHttpHeaders
  /** parsed JSON when the daemon answered JSON, else the text */
  body: T
  text: string
}

/**
 * One call to the Engine API, e.g. docker('/containers/json', { query: { all: 1 } }).
 * The method defaults to GET, or POST when a body is given. No keep-alive:
 * these calls never count as open daemon connections.
 */
export async function docker<T = any> (path: string, init: DockerInit = {}): Promise<DockerResponse<T>> {
  const { target, ...rest } = init
  const res = await engineRequest(target ?? daemon(), path, rest)
  const text = res.body.toString('utf8')
  let body: unknown = text
  if (String(res.headers['content-type'] ?? '').includes('json') && text.length > 0) {
    try { body = JSON.parse(text) } catch {}
  }
  return { status: res.status, headers: res.headers, body: body as T, text }
}

export interface TestLabel {
  key: string
  value: string
  /** key=value, as used in filters={"label":["key=value"]} */
  filter: string
  /** { key: value }, for a create body's Labels */
  labels: Record<string, string>
  toString(): string
}

/**
 * A label unique to this test file and run, for every container the file
 * creates: cleanupLabel() then removes exactly those, even when the daemon is
 * shared with other test files or developers.
 */
export function testLabel (file: string, key = 'dgw.test'): TestLabel {
  const value = `${path.basename(file).replace(/\.test\.[cm]?[jt]s$/, '')}-${crypto.randomBytes(4).toString('hex')}`
  const filter = `${key}=${value}`
  return { key, value, filter, labels: { [key]: value }, toString: () => filter }
}

/**
 * Ids of the containers on the daemon that carry every one of these labels
 * ("key=value"): what a refused create must not have left behind.
 */
export async function containersLabelled (...labels: string[]): Promise<string[]> {
  const list = await docker<Array<{ Id: string }>>('/containers/json', { query: { all: true, filters: { label: labels } } })
  if (list.status !== 200) throw new Error(`containersLabelled(${labels.join(', ')}): list answered ${list.status} ${list.text}`)
  return list.body.map(c => c.Id)
}

/**
 * Force-remove (with volumes) every container carrying the label; returns how
 * many. `label` is a TestLabel or a "key=value" string.
 */
export async function cleanupLabel (label: TestLabel | string, target?: EngineTarget): Promise<number> {
  const filter = typeof label === 'string' ? label : label.filter
  const list = await docker<Array<{ Id: string }>>('/containers/json', {
    query: { all: true, filters: { label: [filter] } },
    target
  })
  if (list.status !== 200) throw new Error(`cleanupLabel(${filter}): list answered ${list.status} ${list.text}`)
  await Promise.all(list.body.map(async c => {
    const res = await docker(`/containers/${c.Id}`, { method: 'DELETE', query: { force: true, v: true }, target })
    if (res.status !== 204 && res.status !== 404 && res.status !== 409) throw new Error(`cleanupLabel: removing ${c.Id} answered ${res.status} ${res.text}`)
  }))
  return list.body.length
}
