import { isObj, listAt, numAt, objAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { formatPath } from './strict-json'
import type { Violation } from './types'

/**
 * tmpfs mounts: `HostConfig.Tmpfs` (container path -> mount-option string)
 * and `Mounts` entries of Type tmpfs (TmpfsOptions.SizeBytes, Mode and, from
 * API 1.46, Options as [name] / [name, value] pairs).
 *
 * dockerd prepends "noexec,nosuid,nodev,rprivate" and merges the caller's
 * options after them (moby daemon/oci_linux.go, pkg/mount
 * MergeTmpfsOptions), then runc applies the string. runc reads every
 * option, not only tmpfs's: `bind`/`rbind` turn the mount into a bind mount
 * of its Source, "tmpfs", resolved relative to the bundle directory on the
 * host (issue 10 finding 8); `suid`/`dev` undo the safe defaults, a
 * propagation flag (`shared`, `rslave`...) changes how mounts cross between
 * the container and the host, `remount` remounts. So every option is on an
 * allow-list, and anything else, unknown ones included, is refused:
 *
 * - size=<n>[k|m|g]: bounded by resources.maxTmpfsSize. `%` (a share of the
 *   HOST's RAM) is refused: the same body would mean different sizes on
 *   different hosts.
 * - nr_inodes=<n>[k|m|g]: at most MAX_INODES (inodes are kernel memory that
 *   cgroup v1 does not charge to the container).
 * - mode=<octal, up to 4 digits>, uid=<n>, gid=<n>: owner and permissions of
 *   the tmpfs root; they only affect the container's own view.
 * - ro, rw, noexec, nosuid, nodev, noatime, relatime, nodiratime.
 * - exec: allowed. It lets the container run files it wrote to its own
 *   tmpfs, which it can already do on its writable rootfs; the host-facing
 *   guards are nosuid and nodev, which stay (suid and dev are refused).
 *   Docker's own docs show `--tmpfs /run:rw,noexec,nosuid,size=65536k` and
 *   builds commonly need `--tmpfs /tmp:exec`.
 *
 * Refused: bind, rbind, every propagation flag, remount, suid, dev,
 * nr_blocks (use size), huge= and mpol= (host memory policy), tmpcopyup
 * (runc copies image content as root), and every unknown option.
 */

type Limits = Pick<PolicyRules['resources'], 'maxTmpfsSize'>

/** The most inodes a tmpfs may ask for (tmpfs's own default is half the host's RAM pages). */
export const MAX_INODES = 1_048_576

const FLAGS = new Set(['ro', 'rw', 'noexec', 'exec', 'nosuid', 'nodev', 'noatime', 'relatime', 'nodiratime'])

const WHY_REFUSED: Readonly<Record<string, string>> = {
  bind: 'turns the tmpfs into a bind mount of a host path (runc resolves its source in the bundle directory)',
  rbind: 'turns the tmpfs into a recursive bind mount of a host path (runc resolves its source in the bundle directory)',
  remount: 'remounts instead of mounting',
  suid: 'honours setuid binaries (dockerd defaults to nosuid)',
  dev: 'honours device nodes (dockerd defaults to nodev)',
  nr_blocks: 'use size= instead, which is bounded',
  huge: 'sets the host huge-page policy',
  mpol: 'sets the host NUMA memory policy',
  tmpcopyup: 'makes runc copy image content into the tmpfs as root'
}
const PROPAGATION = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'unbindable', 'runbindable']

/** Why one `name[=value]` option is refused, or undefined when it is allowed. */
export function tmpfsOptionProblem (option: string, limits: Limits): string | undefined {
  const eq = option.indexOf('=')
  const name = eq === -1 ? option : option.slice(0, eq)
  const value = eq === -1 ? undefined : option.slice(eq + 1)
  if (option === '') return 'is an empty option'
  if (PROPAGATION.includes(name)) return 'is a mount propagation flag (it would share mounts between the container and the host)'
  const why = WHY_REFUSED[name]
  if (why !== undefined) return `is not allowed (it ${why})`
  if (FLAGS.has(name)) return value === undefined ? undefined : 'takes no value'
  if (value === undefined) return `is not an allowed tmpfs option (allowed: ${[...FLAGS].join(', ')}, size=, nr_inodes=, mode=, uid=, gid=)`
  switch (name) {
    case 'size': {
      if (value.endsWith('%')) return 'is a share of the host\'s RAM, which differs per host: give a size in bytes (k, m, g suffixes)'
      const n = parseSize(value)
      if (n === undefined) return 'is not a size (digits with an optional k, m or g suffix)'
      if (n === 0) return 'is 0, which tmpfs takes as unlimited'
      if (limits.maxTmpfsSize > 0 && n > limits.maxTmpfsSize) return `is above the maximum tmpfs size ${limits.maxTmpfsSize} bytes`
      return undefined
    }
    case 'nr_inodes': {
      const n = parseSize(value)
      if (n === undefined) return 'is not a number (digits with an optional k, m or g suffix)'
      if (n === 0 || n > MAX_INODES) return `must be between 1 and ${MAX_INODES} (0 is unlimited)`
      return undefined
    }
    case 'mode':
      return /^[0-7]{1,4}$/.test(value) ? undefined : 'is not an octal mode of at most 4 digits (e.g. 1777)'
    case 'uid':
    case 'gid':
      return /^(0|[1-9][0-9]{0,9})$/.test(value) && Number(value) < 2 ** 32 - 1 ? undefined : 'is not a numeric id'
    default:
      return `is not an allowed tmpfs option (allowed: ${[...FLAGS].join(', ')}, size=, nr_inodes=, mode=, uid=, gid=)`
  }
}

/** The kernel's memparse for what tmpfs accepts: digits with an optional k/m/g (either case). */
function parseSize (value: string): number | undefined {
  const m = /^([0-9]{1,20})([kKmMgG]?)$/.exec(value)
  if (m === null) return undefined
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g']
  const n = Number(m[1]) * unit
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER
}

/**
 * A tmpfs target inside the container: absolute, clean (no `.`/`..` or empty
 * segments, no trailing slash), not `/` itself (it would hide the rootfs) and
 * nothing under /proc or /sys, where the kernel's own views live (runc
 * refuses most /proc targets, CVE-2019-19921; covering them hides the masks
 * dockerd puts there).
 */
export function tmpfsTargetProblem (target: string): string | undefined {
  if (target === '') return 'is empty'
  if (target.length > 4096) return 'is longer than PATH_MAX (4096)'
  if (!target.startsWith('/')) return 'is not an absolute path'
  if (target === '/') return 'is the container\'s root directory'
  if (/[\0\n,:]/.test(target)) return 'contains a NUL, newline, comma or colon'
  const segments = target.slice(1).split('/')
  if (segments.some(s => s === '' || s === '.' || s === '..')) return 'is not a clean path (no empty, "." or ".." segments, no trailing slash)'
  if (segments[0] === 'proc' || segments[0] === 'sys') return `is under /${segments[0]}, where the kernel's views and dockerd's masks live`
  return undefined
}

export function checkTmpfs (hc: Obj | undefined, limits: Limits): Violation[] {
  const out: Violation[] = []
  const push = (field: string, message: string): void => { out.push({ rule: 'tmpfs-options', field, message }) }
  const tmpfs = objAt(hc, 'Tmpfs') ?? {}
  for (const [target, options] of Object.entries(tmpfs)) {
    const field = formatPath(['HostConfig', 'Tmpfs', target])
    const targetProblem = tmpfsTargetProblem(target)
    if (targetProblem !== undefined) push(field, `${field}: the target ${JSON.stringify(target)} ${targetProblem}`)
    if (typeof options !== 'string' || options === '') continue
    for (const option of options.split(',')) {
      const problem = tmpfsOptionProblem(option, limits)
      if (problem !== undefined) push(field, `${field}=${JSON.stringify(options)}: the option ${JSON.stringify(option)} ${problem}`)
    }
  }
  ;(listAt(hc, 'Mounts') ?? []).forEach((m, i) => {
    if (!isObj(m) || strAt(m, 'Type') !== 'tmpfs') return
    const base = ['HostConfig', 'Mounts', i]
    const target = strAt(m, 'Target') ?? ''
    const targetProblem = tmpfsTargetProblem(target)
    if (targetProblem !== undefined) push(formatPath([...base, 'Target']), `${formatPath([...base, 'Target'])}=${JSON.stringify(target)} ${targetProblem}`)
    checkTmpfsOptions(objAt(m, 'TmpfsOptions'), [...base, 'TmpfsOptions'], limits, push)
  })
  return out
}

function checkTmpfsOptions (o: Obj | undefined, base: Array<string | number>, limits: Limits, push: (field: string, message: string) => void): void {
  if (o === undefined) return
  const size = numAt(o, 'SizeBytes') ?? 0
  const sizeField = formatPath([...base, 'SizeBytes'])
  if (size < 0) push(sizeField, `${sizeField}=${size} is negative`)
  else if (limits.maxTmpfsSize > 0 && size > limits.maxTmpfsSize) push(sizeField, `${sizeField}=${size} is above the maximum tmpfs size ${limits.maxTmpfsSize} bytes`)
  const mode = numAt(o, 'Mode') ?? 0
  const modeField = formatPath([...base, 'Mode'])
  // dockerd writes mode=%o of the Go os.FileMode; only permission bits (and setgid/sticky) mean anything.
  if (mode < 0 || mode > 0o7777) push(modeField, `${modeField}=${mode} is not a permission mode (0 to 0o7777)`)
  ;(listAt(o, 'Options') ?? []).forEach((pair, j) => {
    const field = formatPath([...base, 'Options', j])
    const parts = Array.isArray(pair) ? pair : []
    if (parts.length < 1 || parts.length > 2 || !parts.every(p => typeof p === 'string')) {
      push(field, `${field} must be ["name"] or ["name", "value"]`)
      return
    }
    const option = parts.length === 1 ? parts[0] as string : `${parts[0] as string}=${parts[1] as string}`
    const problem = /[,]/.test(option) ? 'contains a comma' : tmpfsOptionProblem(option, limits)
    if (problem !== undefined) push(field, `${field}: the option ${JSON.stringify(option)} ${problem}`)
  })
}
