/**
 * Durations as operators write them: `8h`, `30m`, `1 minute`, `90s`, or a
 * bare number of milliseconds. Used for `token --ttl` and `rateLimit.timeWindow`.
 */

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000
}

export const DURATION_PATTERN = '^\\s*[0-9]+(\\.[0-9]+)?\\s*(ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)?\\s*$'
const DURATION_RE = new RegExp(DURATION_PATTERN, 'i')

/** Milliseconds, or undefined when `text` is not a duration or is zero. */
export function parseDuration (text: string | number, bareUnit: 'ms' | 's' = 'ms'): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 ? Math.round(text * UNITS[bareUnit]!) : undefined
  if (!DURATION_RE.test(text)) return undefined
  const m = /^\s*([0-9.]+)\s*([a-z]*)\s*$/i.exec(text) as RegExpExecArray
  const unit = m[2] === '' ? bareUnit : (m[2] as string).toLowerCase()
  const ms = Math.round(Number(m[1]) * (UNITS[unit] as number))
  return ms > 0 ? ms : undefined
}

/** `8h`, `90s`, `1500ms`: the largest unit that divides evenly, for messages. */
export function formatDuration (ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}
