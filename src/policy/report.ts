import type { Obj } from './body'
import type { PolicyRules } from './config'
import { setOwn } from './go-json'
import type { Violation } from './types'

/**
 * Report-only policy (issue 13 item 6): `policy.mode: report`, or a rule
 * named in `policy.reportRules`, turns that rule's 403 into an audit line
 * (`decision: "would-deny"`) and lets the body through, so an operator can
 * roll a policy out without breaking running pipelines.
 *
 * Only the rules listed here can report. A rule missing from both lists is
 * enforced in report mode too (fail closed), and
 * test/table/policy/report.test.ts fails until it is classified.
 */
export const REPORTABLE_RULES: readonly string[] = [
  'annotations', 'bind-mount', 'capabilities', 'cgroup-parent', 'cpu-realtime', 'devices',
  'exec-privileged', 'exec-root-user', 'field-denied', 'healthcheck', 'host-namespace', 'image',
  'log-driver', 'log-options', 'masked-paths', 'mount-type', 'namespace-mode', 'network', 'no-rule',
  'oom-kill-disable', 'oom-score-adj', 'port-binding', 'ports', 'privileged', 'publish-all-ports',
  'required-labels', 'resources', 'restart-policy', 'runtime', 'security-opt', 'sysctls',
  'tmpfs-options', 'ulimits', 'volume-driver'
]

/**
 * Ownership is never report-only: one principal's containers and volumes are
 * not a policy an operator rolls out, they are the tenancy boundary.
 * `owner-label`: a client-sent owner label would plant a container on
 * another principal. `volume-ref`: the owner label in a volume Mount's
 * labels, same thing for volumes. `container-ref`: a reference the gateway
 * cannot parse is never resolved, so its ownership would go unchecked.
 */
/**
 * `image-pull`: a pull is not a body forwarded with a note, it makes the
 * daemon connect to the registry the reference names and store what it
 * serves (src/policy/image.ts checkPull); reporting instead of refusing
 * would fetch any image from anywhere.
 */
export const NEVER_REPORTED_RULES: readonly string[] = ['owner-label', 'volume-ref', 'container-ref', 'image-pull']

const reportable = new Set(REPORTABLE_RULES)

export interface Judged {
  /** Violations that refuse the request (403). */
  enforced: Violation[]
  /** Violations of report-only rules: the request goes through, the audit line says would-deny. */
  wouldDeny: Violation[]
}

/** Split a body's violations by the caller's effective `mode` and `reportRules`. */
export function judgeViolations (violations: readonly Violation[], rules: Pick<PolicyRules, 'mode' | 'reportRules'>): Judged {
  const out: Judged = { enforced: [], wouldDeny: [] }
  for (const v of violations) {
    const reports = reportable.has(v.rule) && (rules.mode === 'report' || rules.reportRules.includes(v.rule))
    ;(reports ? out.wouldDeny : out.enforced).push(v)
  }
  return out
}

/** `reportRules` entries that name no reportable rule (a typo, or an ownership rule). */
export function checkReportRules (names: readonly string[], where: string): string[] {
  return names.filter(n => !reportable.has(n)).map(n => NEVER_REPORTED_RULES.includes(n)
    ? `${where}.reportRules: ${JSON.stringify(n)} is ${n === 'image-pull' ? 'the pull rule' : 'an ownership rule'} and is never report-only`
    : `${where}.reportRules: ${JSON.stringify(n)} is not a rule that can report (known: ${REPORTABLE_RULES.join(', ')})`)
}

/** Go's zero values: what the Docker CLI sends for a flag that was not given. */
function isZero (v: unknown): boolean {
  return v === null || v === undefined || v === 0 || v === '' || v === false
}

/**
 * Put back the scalar HostConfig values the caller sent that a default
 * injector replaced. Defaults fill only what a body leaves unset, except
 * for values the policy refuses anyway (`PidsLimit: -1`, a negative
 * `Memory`): in report mode those reach the daemon, so the container
 * behaves as it would without the gateway's rule, which is the point of
 * reporting instead of enforcing.
 */
export function keepSentValues (hostConfig: Obj, sent: Readonly<Obj>): void {
  for (const [key, value] of Object.entries(sent)) {
    if (typeof value !== 'object' && !isZero(value)) setOwn(hostConfig, key, value)
  }
}
