// Shared by the policy end-to-end tests: raw requests to a gateway and label
// look-ups made directly on the daemon, so what a test asserts is what the
// daemon really holds, not what the gateway says it did.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { request } from 'undici'
import { docker } from '../docker'

export interface Answer {
  status: number
  text: string
  /** the parsed JSON body, or undefined */
  json: any
  headers: Record<string, string | string[] | undefined>
}

/**
 * POST `body` to the gateway. A string is sent as is (so JSON escapes and
 * duplicate keys reach the gateway byte for byte); anything else is
 * JSON.stringified.
 */
export async function send (url: string, token: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const raw = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  const res = await request(url, {
    method: method as 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers
    },
    body: raw
  })
  const text = await res.body.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: res.statusCode, text, json, headers: res.headers }
}

/** Ids of the daemon's containers (running or not) carrying every one of these `key=value` labels. */
export async function containersLabelled (...labels: string[]): Promise<string[]> {
  const res = await docker<Array<{ Id: string }>>('/containers/json', { query: { all: true, filters: { label: labels } } })
  if (res.status !== 200) throw new Error(`list by ${labels.join(', ')} answered ${res.status} ${res.text}`)
  return res.body.map(c => c.Id)
}

/** A gateway config file (YAML is a superset of JSON) in a fresh temp dir, removed at teardown. */
export function writeConfig (t: { teardown: (fn: () => unknown) => void }, config: unknown): { file: string, dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgw-policy-e2e-'))
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  const file = path.join(dir, 'gateway.yaml')
  fs.writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2))
  return { file, dir }
}

/**
 * Add `labels` to a create body without changing how it decodes: merged into
 * an object body's Labels; spliced into a raw string's `"Labels":{` (or
 * added as the first key when it has none), so escapes and duplicate keys
 * stay exactly as written. Returns undefined for a body that cannot carry a
 * label (not an object, or Labels that is not an object).
 */
export function withLabels (body: unknown, labels: Record<string, string>): unknown {
  const entries = JSON.stringify(labels).slice(1, -1)
  if (typeof body === 'string') {
    const s = body.trimStart()
    if (!s.startsWith('{')) return undefined
    if (s.includes('"Labels":{}')) return s.replace('"Labels":{}', `"Labels":{${entries}}`)
    if (s.includes('"Labels":{')) return s.replace('"Labels":{', `"Labels":{${entries},`)
    if (/"labels"\s*:/i.test(s)) return undefined
    return s === '{}' ? `{"Labels":{${entries}}}` : `{"Labels":{${entries}},${s.slice(1)}`
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const obj = body as Record<string, unknown>
  if (Object.keys(obj).some(k => k !== 'Labels' && k.toLowerCase() === 'labels')) return undefined
  const current = obj.Labels
  if (current !== undefined && (typeof current !== 'object' || current === null || Array.isArray(current))) return undefined
  return { ...obj, Labels: { ...(current as Record<string, string> | undefined), ...labels } }
}
