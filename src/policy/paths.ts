/**
 * Host paths of bind mounts, judged the way the daemon will use them.
 *
 * The daemon `path.Clean`s a bind source before mounting it, so `/srv/data/../../etc`
 * is `/etc`: we clean first and compare afterwards, on whole path segments
 * (`/srv/data2` is not under `/srv/data`). What we cannot clean into an
 * absolute path (relative, `~`, empty, NUL) is refused rather than guessed at.
 *
 * Not covered, because a pure module cannot see the host: the kernel follows
 * symlinks in the source at mount time. If anything can write a symlink inside
 * an allowed prefix (a container with that prefix bound read-write, say), a
 * later bind of `<prefix>/link` mounts wherever the link points. Allow only
 * trees nobody untrusted can write to, or set `requireReadOnlyBinds`.
 */

export type CleanPath = { ok: true, path: string } | { ok: false, reason: string }

/** POSIX-clean an absolute host path, like Go's path.Clean on an absolute input. */
export function normaliseHostPath (raw: string): CleanPath {
  if (raw === '') return { ok: false, reason: 'is empty' }
  if (raw.includes('\0')) return { ok: false, reason: 'contains a NUL byte' }
  if (!raw.startsWith('/')) return { ok: false, reason: 'is not an absolute path' }
  const out: string[] = []
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue
    // '..' at the root stays at the root, as in the kernel and path.Clean.
    if (seg === '..') out.pop()
    else out.push(seg)
  }
  return { ok: true, path: '/' + out.join('/') }
}

/** Is the clean path `path` equal to or inside the clean path `prefix`? */
export function isUnderPrefix (path: string, prefix: string): boolean {
  if (prefix === '/') return true
  return path === prefix || path.startsWith(prefix + '/')
}

/** Is `path` (already clean) under one of `prefixes` (cleaned here; unusable ones ignored)? */
export function isUnderAnyPrefix (path: string, prefixes: readonly string[]): boolean {
  return prefixes.some(p => {
    const clean = normaliseHostPath(p)
    return clean.ok && isUnderPrefix(path, clean.path)
  })
}

/**
 * One `HostConfig.Binds` entry, parsed like the daemon's Linux mount parser
 * (volume/mounts/linux_parser.go ParseMountRaw): split on ':' into at most
 * three parts; one part is a container path that gets an anonymous volume;
 * an absolute source is a host bind, any other source a named volume.
 */
export type BindSpec =
  | { kind: 'bind', source: string, target: string, options: string[] }
  | { kind: 'volume', source: string, target: string, options: string[] }
  | { kind: 'anonymous', target: string, options: string[] }

export type ParsedBind = { ok: true, spec: BindSpec } | { ok: false, reason: string }

/** Docker's rule for local volume names (volume/local: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`). */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/
/** Modes the daemon accepts as a lone second part ("/foo:rw" is not a bind). */
const MODE_WORDS = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'consistent', 'cached', 'delegated'])

export function parseBind (entry: string): ParsedBind {
  const parts = entry.split(':')
  if (parts[0] === '') return { ok: false, reason: 'has an empty source' }
  switch (parts.length) {
    case 1:
      return { ok: true, spec: { kind: 'anonymous', target: parts[0]!, options: [] } }
    case 2:
    case 3: {
      const [source, target, mode] = parts as [string, string, string?]
      if (parts.length === 2 && target.split(',').every(w => MODE_WORDS.has(w))) {
        return { ok: false, reason: 'has a mode but no container path' }
      }
      const options = mode === undefined || mode === '' ? [] : mode.split(',')
      if (source.startsWith('/')) return { ok: true, spec: { kind: 'bind', source, target, options } }
      if (VOLUME_NAME.test(source)) return { ok: true, spec: { kind: 'volume', source, target, options } }
      return { ok: false, reason: `source ${JSON.stringify(source)} is neither an absolute host path nor a volume name` }
    }
    default:
      return { ok: false, reason: 'has more than three ":"-separated parts' }
  }
}
