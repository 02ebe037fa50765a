import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino'
import type { FastifyServerOptions } from 'fastify'
import type { Config } from '../config/schema'
import { auditRecord, type AuditWriter } from '../../plugins/request-context'
import { auditRedactOptions, redactOptions } from './redact'

/**
 * Logging for operators. The audit record is the one line per request that
 * plugins/request-context writes when the response closes ("who stopped
 * this container, and when"). By default it goes with the other log lines;
 * `audit.destination` (GATEWAY_AUDIT_FILE) sends it to its own pino
 * instance instead, writing to stdout, stderr or a file, at every log level
 * (an audit trail that `logLevel: warn` switched off would be no trail).
 * Both loggers redact the same paths (./redact.ts) and write ISO times.
 */

type LoggerOption = FastifyServerOptions['logger']

/** The gateway logger's options: the caller's (tests pass a stream and level) plus redaction, always. */
export function loggerOptions (config: Config, given?: LoggerOption): LoggerOption {
  if (given === false) return false
  const base: Record<string, unknown> = typeof given === 'object' && given !== null ? { ...given } : { level: config.logLevel }
  return { timestamp: pino.stdTimeFunctions.isoTime, ...base, redact: redactOptions }
}

export interface Audit {
  /** Given to request-context; undefined: audit lines go through request.log. */
  write?: AuditWriter
  /** Reopen the audit file (after logrotate moved it; the CLI calls it on SIGHUP). */
  reopen: () => void
  close: () => Promise<void>
}

const NOOP: Audit = { reopen: () => {}, close: async () => {} }

export function createAudit (config: Config, stream?: DestinationStream): Audit {
  const destination = config.audit.destination
  if (destination === undefined && stream === undefined) return NOOP
  const options: LoggerOptions = {
    level: 'info',
    base: { log: 'audit' },
    timestamp: pino.stdTimeFunctions.isoTime,
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
      // A stream cut after close (shutdown) has nowhere left to go but the main log.
      if (closed) request.log.info(auditRecord(request, status), 'request')
      else logger.info({ reqId: request.id, ...auditRecord(request, status) }, 'request')
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
