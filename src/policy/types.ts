/** What the HTTP layer passes in and gets back from the vetting functions. */

export interface PolicyContext {
  /** The caller (JWT `sub`). */
  principal: string
  scopes: readonly string[]
  /** Label that records the owner, e.g. 'docker-gateway.owner'. */
  ownerLabel: string
  ownershipEnabled: boolean
}

/**
 * A container the body points at, which the caller must own. The HTTP layer
 * resolves `ref` as the daemon would (full ID, name, unique ID prefix),
 * checks ownership (admin exempt) and should write the full ID back with
 * `rewriteContainerRef`, so a stale name cannot redirect the join.
 */
export interface ContainerRef {
  /** Human-readable location, e.g. `HostConfig.VolumesFrom[0]`. */
  field: string
  /** The container name, ID or ID prefix as sent. */
  ref: string
  /** Location in the vetted body, for rewriting. */
  path: ReadonlyArray<string | number>
  /** The value is `prefix + ref + suffix`, e.g. 'container:' + ref or ref + ':ro'. */
  prefix: string
  suffix: string
}

/**
 * A named volume the body mounts, which the caller must own (volume-refs.ts).
 * The HTTP layer creates it first, owned by the caller, or finds the
 * existing one and checks its owner label (src/ownership/volumes.ts).
 */
export interface VolumeRef {
  /** Human-readable location, e.g. `HostConfig.Binds[0]` or `HostConfig.Mounts[1].Source`. */
  field: string
  /** The volume name as sent (a Mount Source may be no valid name: the ownership step refuses it, src/ownership/volumes.ts). */
  name: string
  /** Labels the caller asked a new volume to carry (Mount VolumeOptions.Labels; never the owner label). */
  labels: Record<string, string>
}

/** One broken rule. `message` names the field and what is wrong with it. */
export interface Violation {
  rule: string
  field: string
  message: string
}

export type Denial = {
  allow: false
  status: 400 | 403
  rule: string
  field?: string
  message: string
  /** Every enforced rule the body broke (403 only); `rule`/`message` describe the first. */
  violations?: Violation[]
  /** Report-only rules it broke too (report.ts): they alone would not have refused it. */
  wouldDeny?: Violation[]
}

/**
 * Report-only rules (report.ts) the forwarded body breaks; present only when
 * non-empty. The request goes through and its audit line says would-deny.
 */
export interface Reported { wouldDeny?: Violation[] }

export type CreateDecision =
  | { allow: true, body: Record<string, unknown>, containerRefs: ContainerRef[], volumeRefs: VolumeRef[], dropped: string[] } & Reported
  | Denial

export type ExecDecision = { allow: true, body: Record<string, unknown>, dropped: string[] } & Reported | Denial

export type UpdateDecision = { allow: true, body: Record<string, unknown>, dropped: string[] } & Reported | Denial

export function badRequest (rule: string, message: string, field?: string): Denial {
  return field === undefined
    ? { allow: false, status: 400, rule, message }
    : { allow: false, status: 400, rule, field, message }
}

/** The 403 for a non-empty list of violations. */
export function denied (violations: readonly [Violation, ...Violation[]]): Denial {
  const first = violations[0]
  return {
    allow: false,
    status: 403,
    rule: first.rule,
    field: first.field,
    message: `policy denied: ${first.message} (rule: ${first.rule})`,
    violations: [...violations]
  }
}

/**
 * The decision for a decoded body's violations, split by report.ts: a 403
 * naming the first enforced one, or undefined when none is enforced (the
 * caller then forwards the body, with `reported(wouldDeny)`).
 */
export function refusal ({ enforced, wouldDeny }: { enforced: Violation[], wouldDeny: Violation[] }): Denial | undefined {
  const [first, ...rest] = enforced
  if (first === undefined) return undefined
  return { ...denied([first, ...rest]), ...reported(wouldDeny) }
}

export function reported (wouldDeny: Violation[]): Reported {
  return wouldDeny.length > 0 ? { wouldDeny } : {}
}

/** Write the resolved full ID over a reference in a vetted body. */
export function rewriteContainerRef (body: Record<string, unknown>, ref: ContainerRef, id: string): void {
  let node: unknown = body
  for (const key of ref.path.slice(0, -1)) node = (node as Record<string | number, unknown>)[key]
  const last = ref.path[ref.path.length - 1]
  if (last === undefined || typeof node !== 'object' || node === null) throw new Error(`container reference ${ref.field} is not in this body`)
  ;(node as Record<string | number, unknown>)[last] = ref.prefix + id + ref.suffix
}
