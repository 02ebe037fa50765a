/**
 * Outcome check for `GET /containers/{id}/top` with `ps_args`: whatever the
 * arguments did to `ps` on the daemon's host, the answer forwarded may list
 * only the container's own processes. The gateway learns the container's
 * PIDs from the argument-free top (dockerd runs `ps -ef -q<container pids>`,
 * moby daemon/top_unix.go) just before and just after the caller's call, and
 * refuses the caller's whole answer if any row's PID is not among them.
 *
 * The parser is strict on purpose (fail closed): dockerd's own row filter is
 * what issue 10 finding 1 defeated (a second "PID" column, rows whose PID is
 * "-" kept after a kept row), so its output is not trusted to be well formed.
 */
import { dockerErrorJson } from '../errors'

/** The body of a 200 from /containers/{id}/top (api/types/container ContainerTopOKBody). */
export interface TopAnswer {
  Titles: string[]
  Processes: string[][]
}

export type TopCheck = { ok: true } | { ok: false, reason: string }

const PID_CELL = /^[0-9]{1,10}$/

/** Parse a top answer; null Processes (Go's nil slice, no rows) reads as none. */
export function parseTopAnswer (text: string): TopAnswer | { error: string } {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return { error: 'top answer is not JSON' }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { error: 'top answer is not an object' }
  const { Titles, Processes } = body as Record<string, unknown>
  if (!Array.isArray(Titles) || !Titles.every((s): s is string => typeof s === 'string')) return { error: 'top answer has no list of titles' }
  if (Processes === null || Processes === undefined) return { Titles, Processes: [] }
  if (!Array.isArray(Processes)) return { error: 'top answer has no list of processes' }
  const rows: string[][] = []
  for (const row of Processes) {
    if (!Array.isArray(row) || !row.every((s): s is string => typeof s === 'string')) return { error: 'a top row is not a list of strings' }
    rows.push(row)
  }
  return { Titles, Processes: rows }
}

/** The index of the one column titled exactly PID, or why there is none. */
function pidColumn (titles: readonly string[]): number | string {
  const at = titles.flatMap((title, i) => title === 'PID' ? [i] : [])
  if (at.length === 0) return 'no PID column'
  if (at.length > 1) return `${at.length} PID columns`
  return at[0] as number
}

/** Every row's PID, each a plain decimal in a row as long as the titles, or why not. */
export function rowPids (answer: TopAnswer): number[] | string {
  const col = pidColumn(answer.Titles)
  if (typeof col === 'string') return col
  const pids: number[] = []
  for (const [i, row] of answer.Processes.entries()) {
    if (row.length !== answer.Titles.length) return `row ${i} has ${row.length} cells for ${answer.Titles.length} titles`
    const cell = row[col] as string
    if (!PID_CELL.test(cell)) return `row ${i} has a PID that is not a number`
    pids.push(Number(cell))
  }
  return pids
}

/** Accept the caller's answer only if every row's PID is one of the container's own. */
export function checkTopAnswer (answer: TopAnswer, own: ReadonlySet<number>): TopCheck {
  const pids = rowPids(answer)
  if (typeof pids === 'string') return { ok: false, reason: pids }
  const foreign = pids.filter(p => !own.has(p)).length
  if (foreign > 0) return { ok: false, reason: `${foreign} row(s) with a PID outside the container` }
  return { ok: true }
}

/** A GET to the daemon through the host's client (host.call): status and body text (undefined: larger than TOP_ANSWER_LIMIT). */
export type TopFetch = (path: string) => Promise<{ status: number, text: string | undefined }>

export type CheckedTop =
  /** The daemon's own answer, relayed: an error (not running, no such container) or the checked 200. */
  | { kind: 'answer', status: number, body: string }
  /** The caller's answer listed something that is not provably the container's: nothing of it is sent. */
  | { kind: 'refused', reason: string }

/** Largest top answer read (the host-wide fallback with environments is what gets big). */
export const TOP_ANSWER_LIMIT = 4 * 1024 * 1024

/** The daemon's error answer (not running, no such container, a ps failure), relayed as Docker sends it. */
function daemonError (res: { status: number, text: string | undefined }): CheckedTop {
  return { kind: 'answer', status: res.status, body: res.text ?? dockerErrorJson('top answer too large') }
}

function parseSized (text: string | undefined): TopAnswer | { error: string } {
  return text === undefined ? { error: `top answer larger than ${TOP_ANSWER_LIMIT} bytes` } : parseTopAnswer(text)
}

function ownPids (text: string | undefined): number[] | string {
  const parsed = parseSized(text)
  if ('error' in parsed) return parsed.error
  return rowPids(parsed)
}

/**
 * The caller's top (`callerPath`, with ps_args) between two argument-free
 * ones (`fixedPath`): the container's PIDs are those either fixed call lists
 * (a process started in between is in the second; one that exited in between
 * fails the call, closed). Only a fully checked answer is returned, and it is
 * re-serialised from what was checked.
 */
export async function checkedTop (fetch: TopFetch, fixedPath: string, callerPath: string): Promise<CheckedTop> {
  const before = await fetch(fixedPath)
  if (before.status !== 200) return daemonError(before)
  const own = ownPids(before.text)
  if (typeof own === 'string') return { kind: 'refused', reason: `argument-free top unreadable: ${own}` }
  const caller = await fetch(callerPath)
  if (caller.status !== 200) return daemonError(caller)
  const after = await fetch(fixedPath)
  const later = after.status === 200 ? ownPids(after.text) : []
  const allowed = new Set([...own, ...(typeof later === 'string' ? [] : later)])
  const answer = parseSized(caller.text)
  if ('error' in answer) return { kind: 'refused', reason: answer.error }
  const check = checkTopAnswer(answer, allowed)
  if (!check.ok) return { kind: 'refused', reason: check.reason }
  return { kind: 'answer', status: 200, body: JSON.stringify({ Processes: answer.Processes, Titles: answer.Titles }) }
}
