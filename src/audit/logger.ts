import { isoTime } from './time'
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino'
import type { FastifyServerOptions } from 'fastify'
import type { Config } from '../config/schema'
import { auditRecord, type AuditWriter } from './record'
import { auditRedactOptions, redactOptions } from './redact'
import { kParserRejection, type ParserRejection, type RejectedRequest } from '../client-error'

/**
 * Logging for operators. The audit record is the one line per request that
 * plugins/audit.ts writes when the response closes ("who stopped
 * this container, and when"). It has a pino instance of its own, writing at
 * every log level (an audit trail that `logLevel: warn` switched off would
 * be no trail): to `audit.destination` (GATEWAY_AUDIT_FILE: stdout, stderr
 * or a file), else to the main log's destination. Only `logLevel: silent`
 * turns the default trail off, with every other line.
 *
 * A logger of its own also makes the line cheap. The main logger redacts
 * wildcard paths at four depths; walking them costs about 80 µs per line
 * (bench/micro-logging.js). The audit record is a flat object built field by
 * field, so exact top-level paths cover it. Both loggers write ISO times.
 */

type LoggerOption = FastifyServerOptions['logger']

/** The gateway logger's options: the caller's (tests pass a stream and level) plus redaction, always. */
export function loggerOptions (config: Config, given?: LoggerOption): LoggerOption {
  if (given === false) return false
  const base: Record<string, unknown> = typeof given === 'object' && given !== null ? { ...given } : { level: config.logLevel }
  return { timestamp: isoTime, ...base, redact: redactOptions }
}

export interface Audit {
  /** Given to plugins/audit.ts: writes one request's audit line. */
  write: AuditWriter
  /** The line of a request Node's HTTP parser rejected before any handler saw it (src/client-error.ts). */
  reject: (rejection: ParserRejection) => void
  /** Reopen the audit file (after logrotate moved it; the CLI calls it on SIGHUP). */
  reopen: () => void
  close: () => Promise<void>
}

/** Logging is off (logger: false, or logLevel silent with no audit destination). */
const NOOP: Audit = { write: () => {}, reject: () => {}, reopen: () => {}, close: async () => {} }

/**
 * The main log's destination, for audit lines when no audit destination is
 * set: the stream a caller gave the logger (tests), else stdout. Undefined
 * when logging is off.
 */
function mainLogStream (config: Config, mainLog: LoggerOption): DestinationStream | undefined {
  if (mainLog === false) return undefined
  const given = typeof mainLog === 'object' && mainLog !== null ? mainLog as { level?: string, stream?: DestinationStream } : {}
  if ((given.level ?? config.logLevel) === 'silent') return undefined
  // Synchronous like pino's default destination for the main log, so the two
  // loggers' lines reach stdout whole and in the order they were written.
  return given.stream ?? pino.destination({ dest: 1, sync: true })
}

/**
 * @param stream where audit lines go instead of config.audit.destination (tests)
 * @param mainLog the main logger's options, whose destination takes the audit lines when config.audit.destination is unset
 */
export function createAudit (config: Config, stream?: DestinationStream, mainLog?: LoggerOption): Audit {
  const destination = config.audit.destination
  if (destination === undefined && stream === undefined) {
    const main = mainLogStream(config, mainLog)
    return main === undefined ? NOOP : createAudit(config, main)
  }
  const options: LoggerOptions = {
    level: 'info',
    base: { log: 'audit' },
    timestamp: isoTime,
    redact: auditRedactOptions
  }
  let dest: ReturnType<typeof pino.destination> | undefined
  let out: DestinationStream
  if (stream !== undefined) {
    out = stream
  } else if (destination === 'stdout' || destination === 'stderr') {
    out = pino.destination({ dest: destination === 'stdout' ? 1 : 2, sync: true })
  } else {
    // 0640: the trail names principals and addresses; it is not for everyone on the host.
    // Buffered in 4 KiB writes: a clean shutdown flushes (close below); a
    // SIGKILL can lose the last few lines, the price of one write per line less.
    dest = pino.destination({ dest: destination as string, mkdir: true, sync: false, mode: 0o640, minLength: 4096 })
    out = dest
  }
  const logger: Logger = pino(options, out)
  let closed = false
  return {
    write: (request, status) => {
      const record = auditRecord(request, status)
      const rejected = (request.raw as RejectedRequest)[kParserRejection]
      if (rejected !== undefined) {
        // The parser rejected bytes that followed this request's head: the client got the
        // rejection, not the answer the handler may still have produced.
        Object.assign(record, { decision: 'deny', reason: rejected.reason, status: rejected.status, bytesIn: rejected.bytesIn, bytesOut: rejected.bytesOut })
      }
      // A stream cut after close (shutdown) has nowhere left to go but the main log.
      if (closed) request.log.info(record, 'request')
      else {
        record.reqId = request.id
        logger.info(record, 'request')
      }
    },
    reject: (rejection) => {
      if (closed) return
      // The same fields as a request's line; no principal, route or method: nothing was read.
      logger.info({ ip: rejection.ip, decision: 'deny', reason: rejection.reason, status: rejection.status, bytesIn: rejection.bytesIn, bytesOut: rejection.bytesOut }, 'request')
    },
    reopen: () => { dest?.reopen() },
    close: async () => {
      closed = true
      if (dest === undefined) return
      const d = dest
      await new Promise<void>(resolve => {
        // sonic-boom refuses flushSync before its file is open.
        const finish = (): void => { try { d.flushSync() } catch {} d.end(); resolve() }
        if ((d as unknown as { fd: number }).fd >= 0) finish()
        else d.once('ready', finish)
      })
    }
  }
}
