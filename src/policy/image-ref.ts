/**
 * Image references as the daemon reads them: one normaliser for the create
 * policy (`Image`, image mounts) and for pulls (`POST /images/create`).
 *
 * A port of distribution/reference's ParseNormalizedNamed (normalize.go,
 * regexp.go, reference.go), the parser dockerd runs on `fromImage` and on a
 * create's `Image`: `nginx` is `docker.io/library/nginx`, `index.docker.io`
 * is `docker.io`, a first component with a `.` or `:` (or `localhost`, or
 * capitals) is a registry host, which keeps its port (`127.0.0.1:5000/x`).
 * The host matters: for a pull it is where the daemon connects.
 */

export interface ImageRef {
  /** Registry host with its port: `docker.io`, `127.0.0.1:5000`. */
  domain: string
  /** Repository path inside the registry: `library/nginx`. */
  path: string
  tag?: string
  /** `sha256:<64 hex>` (or sha384/sha512). */
  digest?: string
}

export type RefParse = { ok: true, ref: ImageRef } | { ok: false, message: string }

const DEFAULT_DOMAIN = 'docker.io'
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io'
const OFFICIAL_PREFIX = 'library/'
/** distribution/reference NameTotalLengthMax. */
const NAME_MAX = 255

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`
const DOMAIN = new RegExp(`^${HOST}(?::[0-9]+)?$`)
const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`)
const TAG = /^[\w][\w.-]{0,127}$/
/** The algorithms go-digest knows, each with its exact hex length. */
const DIGEST = /^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/
const IDENTIFIER = /^[a-f0-9]{64}$/

/** A digest as go-digest's digest.Parse accepts it. */
export function isDigest (s: string): boolean {
  return DIGEST.test(s)
}

/** reference.ParseNormalizedNamed. */
export function parseImageRef (s: string): RefParse {
  const bad = (why: string): RefParse => ({ ok: false, message: `invalid reference format "${s}": ${why}` })
  if (IDENTIFIER.test(s)) return bad('a 64-digit hexadecimal string is an image ID, not a repository name')
  // splitDockerDomain: the first component is a registry host when it looks like one.
  const slash = s.indexOf('/')
  let domain = DEFAULT_DOMAIN
  let rest = s
  if (slash !== -1) {
    const first = s.slice(0, slash)
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first
      rest = s.slice(slash + 1)
    }
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_PREFIX + rest
  if (!DOMAIN.test(domain)) return bad('invalid registry host')
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at !== -1) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) return bad('invalid digest')
  }
  let tag: string | undefined
  const colon = rest.indexOf(':')
  if (colon !== -1) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) return bad('invalid tag')
  }
  if (rest.toLowerCase() !== rest) return bad('repository name must be lowercase')
  if (!PATH.test(rest)) return bad('invalid repository name')
  if (domain.length + 1 + rest.length > NAME_MAX) return bad(`repository name longer than ${NAME_MAX} characters`)
  const ref: ImageRef = { domain, path: rest }
  if (tag !== undefined) ref.tag = tag
  if (digest !== undefined) ref.digest = digest
  return { ok: true, ref }
}

function suffix (ref: ImageRef): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '')
}

/** The full form: `docker.io/library/nginx:latest`. */
export function fullString (ref: ImageRef): string {
  return `${ref.domain}/${ref.path}${suffix(ref)}`
}

/** The familiar form (reference.FamiliarString): `nginx:latest`, `user/app:1`, other hosts unchanged. */
export function familiarString (ref: ImageRef): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullString(ref)
  const path = ref.path.startsWith(OFFICIAL_PREFIX) && !ref.path.slice(OFFICIAL_PREFIX.length).includes('/')
    ? ref.path.slice(OFFICIAL_PREFIX.length)
    : ref.path
  return `${path}${suffix(ref)}`
}

/** reference.TagNameOnly: `:latest` when the reference has neither tag nor digest. */
export function withDefaultTag (ref: ImageRef): ImageRef {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref
}

/**
 * The strings an allow-list pattern is matched against: the full form, and
 * the familiar one only when it reads back as the same reference.
 * (`docker.io/registry.internal/x` is a Docker Hub repository whose familiar
 * form `registry.internal/x` would name another registry: a pattern
 * 'registry.internal/*' must not admit it.)
 */
export function referenceForms (ref: ImageRef): string[] {
  const full = fullString(ref)
  const familiar = familiarString(ref)
  if (familiar === full) return [full]
  const back = parseImageRef(familiar)
  return back.ok && fullString(back.ref) === full ? [full, familiar] : [full]
}

/**
 * What a pull fetches, from `fromImage` and `tag` as dockerd combines them
 * (api/server/router/image/image_routes.go postImagesCreate): one trailing
 * `:` dropped (`docker pull -a` sends `nginx:`), a non-empty `tag` replaces
 * the name's tag or, when it is a digest, the whole tag and digest. With a
 * digest the daemon fetches by digest and ignores any tag, so the tag is
 * dropped here too. No tag and no digest means every tag of the repository.
 */
export function pullRef (fromImage: string, tag: string): RefParse {
  const name = fromImage.endsWith(':') ? fromImage.slice(0, -1) : fromImage
  const parsed = parseImageRef(name)
  if (!parsed.ok) return parsed
  const ref: ImageRef = { domain: parsed.ref.domain, path: parsed.ref.path }
  if (tag !== '') {
    if (isDigest(tag)) {
      ref.digest = tag
    } else {
      if (!TAG.test(tag)) return { ok: false, message: `invalid tag format "${tag}"` }
      if (parsed.ref.digest !== undefined) ref.digest = parsed.ref.digest
      else ref.tag = tag
    }
  } else if (parsed.ref.digest !== undefined) {
    ref.digest = parsed.ref.digest
  } else if (parsed.ref.tag !== undefined) {
    ref.tag = parsed.ref.tag
  }
  return { ok: true, ref }
}
