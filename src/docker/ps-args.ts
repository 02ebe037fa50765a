/**
 * `ps_args` of `GET /containers/{id}/top`: the words are handed to `ps` on
 * the daemon's host, as root (moby daemon/top_unix.go, ContainerTop:
 * `exec.Command("ps", append(strings.Split(psArgs, " "), "-q<pids>")...)`).
 *
 * Why a grammar and not a character class: when that `ps ... -q<pids>` fails
 * (e.g. `--sort` or `f` cannot be combined with `-q`), dockerd runs
 * `ps <ps_args>` again over EVERY process of the host and keeps the rows
 * whose first "PID" column holds one of the container's PIDs, plus the `-`
 * rows that follow a kept row (parsePSOutput, the thread-line rule for `m`).
 * A column renamed to PID (`rtprio=PID` at the start of the string slips past
 * validatePSArgs, whose regexp needs whitespace before the name), a process
 * in the container that names itself `x <pid>` and `--sort=-pid` made every
 * host row "belong" to the container, and the BSD `e` modifier printed each
 * process's environment (issue 10, finding 1).
 *
 * So only what `docker top` users pass is accepted, each form rewritten to
 * one canonical string, which is all that is forwarded:
 *
 *   (absent or empty)         -> nothing (dockerd runs `ps -ef`)
 *   -ef | -e -f               -> `-ef`
 *   aux                       -> `aux`
 *   -o L | -eo L | o L | -oL  -> `-o L`
 *
 * where L is a comma list of distinct names from OUTPUT_FIELDS that names
 * `pid`, and at most one field whose value can hold spaces, last (ps pads
 * columns with spaces and dockerd splits rows on whitespace, so a space in an
 * earlier column shifts every column after it, PID included). Everything else
 * is refused: renames (`pid=X`), widths (`pid:9`), sort (`--sort`, `k`),
 * forest (`f`, `--forest`, `-H`), environment (`e`, `eww`), thread rows
 * (`m`, `-L`, `H`), process selection (`-p`, `-u`, `-C`, `-q`, `p`, `U`, `t`
 * ...), headers (`--no-headers`, `h`), and any other option.
 */

/** ps(1) -o names accepted, each a fixed column whose value never holds a space. */
const PLAIN_FIELDS: ReadonlySet<string> = new Set([
  'pid', 'ppid', 'pgid', 'sid', 'user', 'uid', 'group', 'gid', 'tty',
  'stat', 'ni', 'pri', 'psr', 'c', 'nlwp', 'rss', 'vsz', 'sz',
  'pcpu', 'pmem', 'etime', 'etimes', 'time', 'stime'
])
/** Fields whose value can hold spaces (a process sets its own comm and argv): only as the last column. */
const TRAILING_FIELDS: ReadonlySet<string> = new Set(['comm', 'args', 'cmd', 'command'])
/** `%cpu` and `%mem` are the AIX spellings of pcpu and pmem (same column, same title). */
const ALIASES: Readonly<Record<string, string>> = { '%cpu': 'pcpu', '%mem': 'pmem' }

export const OUTPUT_FIELDS: readonly string[] = [...PLAIN_FIELDS, ...TRAILING_FIELDS]

export type PsArgsResult =
  | { ok: true, /** What is forwarded; '' means send no ps_args at all. */ canonical: string }
  | { ok: false, message: string }

const ALLOWED_FORMS = 'allowed: none, "-ef", "aux", or "-o <fields>" with fields from ' + OUTPUT_FIELDS.join(',')

function refuse (why: string): PsArgsResult {
  return { ok: false, message: `invalid value for "ps_args": ${why}; ${ALLOWED_FORMS}` }
}

/** Check an `-o` field list; answer the canonical list or why it is refused. */
function parseFieldList (list: string): { ok: true, list: string } | { ok: false, why: string } {
  if (list.length === 0) return { ok: false, why: 'empty field list' }
  const names = list.split(',')
  const seen = new Set<string>()
  for (const [i, raw] of names.entries()) {
    const lower = raw.toLowerCase()
    const name = ALIASES[lower] ?? lower
    if (name.includes('=')) return { ok: false, why: 'renaming a column is not allowed' }
    if (name.includes(':')) return { ok: false, why: 'column widths are not allowed' }
    if (!PLAIN_FIELDS.has(name) && !TRAILING_FIELDS.has(name)) return { ok: false, why: `unknown or refused output field "${raw}"` }
    if (TRAILING_FIELDS.has(name) && i !== names.length - 1) return { ok: false, why: `"${raw}" can hold spaces and must be the last field` }
    if (seen.has(name)) return { ok: false, why: `field "${raw}" is named twice` }
    seen.add(name)
  }
  if (!seen.has('pid')) return { ok: false, why: 'the field list must include pid (dockerd keeps rows by their PID column)' }
  return { ok: true, list: names.map(n => ALIASES[n.toLowerCase()] ?? n.toLowerCase()).join(',') }
}

/**
 * Parse `ps_args` as sent by the client (already URL-decoded). Words are
 * split on runs of ASCII spaces; tabs and other whitespace are refused
 * (dockerd splits on single spaces, ps and the row parser on any whitespace).
 */
export function parsePsArgs (raw: string): PsArgsResult {
  if (raw.length > 256) return refuse('too long')
  if (!/^[\x21-\x7e ]*$/.test(raw)) return refuse('only printable ASCII and spaces are allowed')
  const words = raw.split(' ').filter(w => w !== '')
  if (words.length === 0) return { ok: true, canonical: '' }
  const [first, second] = words
  if (words.length === 1 && (first === '-ef' || first === 'aux')) return { ok: true, canonical: first }
  if (words.length === 2 && first === '-e' && second === '-f') return { ok: true, canonical: '-ef' }
  let list: string | undefined
  if (words.length === 2 && (first === '-o' || first === '-eo' || first === 'o')) list = second
  else if (words.length === 1 && first !== undefined && first.startsWith('-o') && first.length > 2) list = first.slice(2)
  if (list === undefined) return refuse(`"${raw}" is not one of the accepted forms`)
  const fields = parseFieldList(list)
  if (!fields.ok) return refuse(fields.why)
  return { ok: true, canonical: `-o ${fields.list}` }
}
