import type { FastifyRequest } from 'fastify'

/**
 * Per-request facts that the security path fills in as it goes, and the one
 * log line per request written from them when the response closes: the
 * audit record ("who stopped this container, and when"). It is written on
 * the socket's 'close', not fastify's onResponse, so a client that hangs up
 * mid-stream is recorded too.
 */
export interface GatewayContext {
  start: bigint
  /** Route template from the allow-list, e.g. `POST /containers/:id/stop`. */
  route?: string
  routeId?: string
  container?: string
  host?: string
  principal?: string
  authMethod?: 'jwt' | 'mtls' | 'none'
  /** The verified client certificate's name (`CN=...`, `DNS:...`, `URI:...`) on a mutual-TLS connection. */
  clientCert?: string
  scopes?: readonly string[]
  /** The token's `hosts` claim: the Docker hosts it may reach; unset means all. */
  allowedHosts?: string[]
  /**
   * allow, or deny with the reason (auth, scope, policy, ownership, rate
   * limit...), or would-deny: forwarded although report-only policy rules
   * (policy.mode: report, policy.reportRules) would have refused it.
   */
  decision: 'allow' | 'deny' | 'would-deny'
  reason?: string
  /** The report-only rules a forwarded body broke, with the field each names (never the value: it may be a secret). */
  wouldDeny?: Array<{ rule: string, field: string }>
  bytesIn: number
  bytesOut: number
  /** Set once a streamed upstream response has finished (status may differ from reply.statusCode). */
  upstreamStatus?: number
  clientAborted?: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    gw: GatewayContext
  }
}

/**
 * A body broke report-only policy rules and is forwarded anyway: the audit
 * line says would-deny and names them. A later refusal (ownership, host)
 * still makes the line a deny, with that step's reason.
 */
export function markWouldDeny (gw: GatewayContext, violations: ReadonlyArray<{ rule: string, field: string }>): void {
  gw.decision = 'would-deny'
  gw.wouldDeny = violations.map(v => ({ rule: v.rule, field: v.field }))
}

export type AuditWriter = (request: FastifyRequest, status: number) => void

function pathOf (url: string): string {
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  return path.length > 200 ? `${path.slice(0, 200)}...` : path
}

export function auditRecord (request: FastifyRequest, status: number): Record<string, unknown> {
  const gw = request.gw
  return {
    principal: gw.principal,
    auth: gw.authMethod,
    clientCert: gw.clientCert,
    ip: request.ip,
    method: request.method,
    route: gw.route,
    // A request refused before the allow-list ran has no route: keep where it was going.
    path: gw.route === undefined ? pathOf(request.url) : undefined,
    container: gw.container,
    host: gw.host,
    decision: gw.decision,
    reason: gw.reason,
    wouldDeny: gw.wouldDeny,
    status,
    bytesIn: gw.bytesIn,
    bytesOut: gw.bytesOut,
    durationMs: Number(process.hrtime.bigint() - gw.start) / 1e6,
    clientAborted: gw.clientAborted === true ? true : undefined
  }
}

