/**
 * pino's ISO timestamp (`,"time":"2026-12-02T17:03:17.123Z"`), formatted once
 * per millisecond: under load many lines share a millisecond, and a Date and
 * its toISOString per line were 2 % of the gateway's CPU per request
 * (docs/benchmarks.md). The same text as pino.stdTimeFunctions.isoTime.
 */
let lastMs = -1
let lastText = ''

export function isoTime (): string {
  const now = Date.now()
  if (now !== lastMs) {
    lastMs = now
    lastText = `,"time":"${new Date(now).toISOString()}"`
  }
  return lastText
}
