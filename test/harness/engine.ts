// A minimal Docker Engine API client for the harness and test assertions.
// Deliberately independent of the gateway under test (src/): a test must be
// able to check what the daemon really did without trusting the gateway.
import { Agent, request } from 'undici'
import type { Dispatcher } from 'undici'
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'

/** Where a daemon listens: an http(s) origin or a unix socket (used only when there is no httpUrl). */
export interface EngineTarget {
  httpUrl?: string | null
  socketPath?: string | null
}

export interface EngineInit {
  method?: string
  /** query parameters; objects (e.g. filters) are JSON-encoded the way the Docker CLI does */
  query?: Record<string, string | number | boolean | object | undefined>
  /** a JSON body (serialized here) ... */
  json?: unknown
  /** ... or a raw body (e.g. a tar stream for /images/create) */
  body?: Buffer | string | Readable
  headers?: Record<string, string>
  /** whole-call deadline in ms (default 30 s) */
  timeoutMs?: number
}

export interface EngineResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

// Keep-alive is off (pipelining 0): the harness's own calls must never show
// up as idle daemon connections when a test counts them to prove the gateway
// closed its upstream sockets.
const agents = new Map<string, Agent>()
function agentFor (socketPath: string | null | undefined): Agent {
  const key = socketPath ?? ''
  let agent = agents.get(key)
  if (!agent) {
    agent = new Agent({
      pipelining: 0,
      connect: socketPath ? { socketPath } : undefined
    })
    agents.set(key, agent)
  }
  return agent
}

export function originOf (target: EngineTarget): string {
  if (target.httpUrl) return target.httpUrl.replace(/\/+$/, '')
  if (target.socketPath) return 'http://localhost'
  throw new Error('engine target has neither httpUrl nor socketPath')
}

export function queryString (query: EngineInit['query']): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue
    params.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v))
  }
  const s = params.toString()
  return s ? `?${s}` : ''
}

export async function engineRequest (target: EngineTarget, path: string, init: EngineInit = {}): Promise<EngineResponse> {
  const headers: Record<string, string> = { ...init.headers }
  let body: Dispatcher.DispatchOptions['body'] = init.body
  if (init.json !== undefined) {
    body = JSON.stringify(init.json)
    headers['content-type'] ??= 'application/json'
  }
  const timeoutMs = init.timeoutMs ?? 30_000
  const res = await request(originOf(target) + path + queryString(init.query), {
    method: (init.method ?? (body === undefined ? 'GET' : 'POST')) as Dispatcher.HttpMethod,
    headers,
    body,
    dispatcher: agentFor(target.httpUrl ? null : target.socketPath),
    signal: AbortSignal.timeout(timeoutMs),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs
  })
  const buf = Buffer.from(await res.body.arrayBuffer())
  return { status: res.statusCode, headers: res.headers, body: buf }
}

/** Throw a readable error unless the status is one of `ok`. */
export function expectStatus (res: EngineResponse, what: string, ok: number[] = [200, 201, 204]): EngineResponse {
  if (!ok.includes(res.status)) {
    throw new Error(`${what}: daemon answered ${res.status} ${res.body.toString('utf8').slice(0, 500)}`)
  }
  return res
}

/** GET /_ping with a short deadline; true when the daemon answers OK. */
export async function ping (target: EngineTarget, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await engineRequest(target, '/_ping', { timeoutMs })
    return res.status === 200
  } catch {
    return false
  }
}
