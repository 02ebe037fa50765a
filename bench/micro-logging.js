#!/usr/bin/env node
'use strict'
/**
 * The cost of one audit line, in-process and interleaved, so it can be
 * measured on a busy machine where whole-gateway A/B runs drown in noise:
 * CPU time (process.cpuUsage, all threads) per line for the audit logger as
 * built by dist/src/audit/logger.js and for the cheaper variants the
 * findings propose. Each batch waits for the file destination to flush, so
 * the write(2) cost is inside the measurement.
 *
 * Second table: what fastify does for every request before any line is
 * written, `logger.child({ reqId })`, on the gateway's main logger (same
 * redact options) and without redaction.
 *
 *   node bench/micro-logging.js [--lines 2000] [--rounds 15] [--burst]
 *
 * Lines are paced one per event-loop turn (as in a server) unless --burst.
 */
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const pino = require('pino')
const { redactOptions } = require('../dist/src/audit/redact')

const args = process.argv.slice(2)
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i === -1 ? def : Number(args[i + 1]) }
const LINES = opt('lines', 2000)
const ROUNDS = opt('rounds', 15)
const PACED = !args.includes('--burst')

// What src/audit/record.ts auditRecord() produces for a list call.
const record = () => ({
  reqId: 'req-1a2b',
  principal: 'bench',
  auth: 'jwt',
  ip: '127.0.0.1',
  method: 'GET',
  route: 'GET /containers/json',
  container: undefined,
  host: 'default',
  decision: 'allow',
  reason: undefined,
  status: 200,
  bytesIn: 0,
  bytesOut: 5821,
  durationMs: 0.8123,
  clientAborted: undefined
})

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgwbench-audit-'))
const base = { level: 'info', base: { log: 'audit' }, timestamp: pino.stdTimeFunctions.isoTime }
const variants = {
  'current (40 wildcard redact paths, write per line)': { ...base, redact: redactOptions },
  'exact top-level redact paths': { ...base, redact: { paths: ['authorization', 'token', 'secret', 'password', 'Env'], censor: redactOptions.censor } },
  'no redact': { ...base },
  'no redact + minLength 4096': { ...base, minLength: 4096 },
  'exact redact + minLength 4096': { ...base, redact: { paths: ['authorization', 'token', 'secret', 'password', 'Env'], censor: redactOptions.censor }, minLength: 4096 }
}

const loggers = Object.entries(variants).map(([name, o], i) => {
  const { minLength, ...options } = o
  const dest = pino.destination({ dest: path.join(dir, `a${i}.log`), sync: false, minLength: minLength ?? 0 })
  return { name, dest, logger: pino(options, dest), cpu: [] }
})

const flush = (dest) => new Promise((resolve) => dest.flush(() => resolve()))

async function main () {
  for (const l of loggers) await new Promise((resolve) => l.dest.fd >= 0 ? resolve() : l.dest.once('ready', resolve))
  for (let round = 0; round < ROUNDS; round++) {
    for (const l of round % 2 === 0 ? loggers : [...loggers].reverse()) {
      const c0 = process.cpuUsage()
      // One line per event-loop turn, as requests arrive in a server (in a
      // tight loop sonic-boom would batch lines behind its in-flight write).
      for (let i = 0; i < LINES; i++) {
        l.logger.info(record(), 'request')
        if (PACED) await new Promise(setImmediate)
      }
      await flush(l.dest)
      const c = process.cpuUsage(c0)
      if (round > 0) l.cpu.push((c.user + c.system) / LINES)
    }
  }
  const median = (xs) => { const v = [...xs].sort((a, b) => a - b); return v[v.length >> 1] }
  const ref = median(loggers[0].cpu)
  console.log(`CPU per audit line (median of ${ROUNDS - 1} rounds × ${LINES} lines, ${PACED ? 'one line per event-loop turn' : 'burst'}):`)
  for (const l of loggers) {
    const m = median(l.cpu)
    console.log(`  ${l.name.padEnd(52)} ${m.toFixed(1).padStart(6)} µs  (${(m - ref >= 0 ? '+' : '') + (m - ref).toFixed(1)} µs)`)
  }
  // Per-request child logger (fastify's default childLoggerFactory).
  const sink = pino.destination({ dest: path.join(dir, 'main.log'), sync: false })
  const mains = [
    { name: 'child of the main logger (redact: 40 wildcard paths)', logger: pino({ ...base, redact: redactOptions }, sink), cpu: [] },
    { name: 'child of a logger without redact', logger: pino({ ...base }, sink), cpu: [] }
  ]
  let keep = 0
  for (let round = 0; round < ROUNDS; round++) {
    for (const m of mains) {
      const c0 = process.cpuUsage()
      for (let i = 0; i < LINES * 5; i++) keep += m.logger.child({ reqId: 'req-' + i }).level.length
      const c = process.cpuUsage(c0)
      if (round > 0) m.cpu.push((c.user + c.system) / (LINES * 5))
    }
  }
  console.log('\nCPU per request-scoped child logger (created, never written to):')
  for (const m of mains) console.log(`  ${m.name.padEnd(52)} ${median(m.cpu).toFixed(1).padStart(6)} µs`)
  if (keep < 0) console.log(keep)
  for (const l of loggers) l.dest.end()
  sink.end()
  fs.rmSync(dir, { recursive: true, force: true })
}

main().catch((err) => { console.error(err); process.exit(1) })
