import type { RouteDef } from './routes'
import { effectivePolicy, reported, vetCreate, vetExec, vetUpdate, type PolicyConfig, type PolicyContext, type ContainerRef, type VolumeRef, type Violation } from '../policy'
import { checkPull } from '../policy/image'

/**
 * Sends each kind of request body to its policy and re-serialises what the
 * policy judged: the daemon receives exactly the object that was vetted,
 * never the client's bytes (duplicate keys, case tricks and unknown fields
 * are resolved or refused by the policy's Go-compatible decoder).
 */

export type Vetted =
  | {
    ok: true
    body?: string
    containerRefs: ContainerRef[]
    volumeRefs?: VolumeRef[]
    decoded?: Record<string, unknown>
    /** Report-only rules the body breaks (src/policy/report.ts): forward it, audit it as would-deny. */
    wouldDeny?: Violation[]
    /** The query to forward instead of the decided one (a pull: the normalised reference). */
    params?: Map<string, string>
  }
  | { ok: false, status: 400 | 403, rule: string, message: string }

/** `POST /exec/{id}/start`: {"Detach": bool, "Tty": bool, "ConsoleSize": [h, w]}, nothing else. */
export function vetExecStart (raw: string | undefined): Vetted {
  if (raw === undefined) return { ok: true, body: '{}', containerRefs: [] }
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (err) {
    return { ok: false, status: 400, rule: 'json', message: `invalid JSON: ${(err as Error).message}` }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, status: 400, rule: 'json', message: 'the exec start body must be a JSON object' }
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    // Go matches these field names case-insensitively (encoding/json).
    const name = key.toLowerCase()
    if (name === 'detach' || name === 'tty') {
      if (typeof value !== 'boolean') return { ok: false, status: 400, rule: 'json', message: `${key} must be true or false` }
      out[name === 'detach' ? 'Detach' : 'Tty'] = value
    } else if (name === 'consolesize') {
      if (value !== null && !(Array.isArray(value) && value.length === 2 && value.every(n => Number.isInteger(n) && n >= 0 && n < 65536))) {
        return { ok: false, status: 400, rule: 'json', message: 'ConsoleSize must be [height, width]' }
      }
      out.ConsoleSize = value
    }
  }
  return { ok: true, body: JSON.stringify(out), containerRefs: [] }
}

/** What the policy needs to know about the caller, from the request context and the ownership settings. */
export function policyContext (gw: { principal?: string, scopes?: readonly string[] }, ownership: { label: string, enabled: boolean }): PolicyContext {
  return { principal: gw.principal ?? '', scopes: gw.scopes ?? [], ownerLabel: ownership.label, ownershipEnabled: ownership.enabled }
}

/**
 * A pull: the reference fromImage and tag name against the caller's image
 * allow-list, and the daemon sent the normalised reference it was judged as
 * (`fromImage=docker.io/library/nginx&tag=1.27`, a digest as the tag), so
 * its parser reads nothing else. Always enforced, in report mode too: a
 * pull makes the daemon connect to the registry the reference names.
 */
export function vetPull (params: ReadonlyMap<string, string>, policy: PolicyConfig, ctx: PolicyContext): Vetted {
  const d = checkPull(params.get('fromImage') ?? '', params.get('tag') ?? '', effectivePolicy(policy, ctx))
  if (!d.allow) return { ok: false, status: d.status, rule: d.rule, message: d.message }
  const forwarded = new Map(params)
  forwarded.set('fromImage', d.name)
  forwarded.set('tag', d.tagOrDigest)
  return { ok: true, containerRefs: [], params: forwarded }
}

/** The body's policy (and, for a pull, the query's: its body is 'none'). */
export function vetBody (route: RouteDef, raw: string | undefined, policy: PolicyConfig, ctx: PolicyContext, params: ReadonlyMap<string, string> = new Map()): Vetted {
  switch (route.body) {
    case 'none':
      return route.queryPolicy === 'pull' ? vetPull(params, policy, ctx) : { ok: true, containerRefs: [] }
    // A tar upload is not judged by its content: dockerd extracts it in a chroot of the container's root (SECURITY.md, "docker cp").
    case 'tar':
      return { ok: true, containerRefs: [] }
    case 'execStart':
      return vetExecStart(raw)
    case 'create':
    case 'exec':
    case 'update': {
      if (raw === undefined) {
        if (route.body === 'update') return { ok: true, containerRefs: [] }
        return { ok: false, status: 400, rule: 'body-required', message: 'request body is required (a JSON object)' }
      }
      if (route.body === 'create') {
        const d = vetCreate(raw, policy, ctx)
        if (!d.allow) return { ok: false, status: d.status, rule: d.rule, message: d.message }
        return { ok: true, body: JSON.stringify(d.body), containerRefs: d.containerRefs, volumeRefs: d.volumeRefs, decoded: d.body, ...reported(d.wouldDeny ?? []) }
      }
      const d = route.body === 'exec' ? vetExec(raw, policy, ctx) : vetUpdate(raw, policy, ctx)
      if (!d.allow) return { ok: false, status: d.status, rule: d.rule, message: d.message }
      return { ok: true, body: JSON.stringify(d.body), containerRefs: [], ...reported(d.wouldDeny ?? []) }
    }
  }
}
