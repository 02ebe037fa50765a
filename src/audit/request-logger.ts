import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, Level, LogFn } from 'pino'

/**
 * `request.log` without its cost when nothing is logged. For every request,
 * fastify builds a pino child logger, and building it serialises the request
 * id binding through every redact path. Most requests never use it: the
 * audit line has a logger of its own (./logger.ts), and a call that goes well
 * logs nothing else. This stand-in builds the real child on the first line
 * written at an enabled level. In a paired A/B on the fake-daemon list path,
 * the gateway's CPU per request fell by 5 % in every round (docs/benchmarks.md,
 * lever 3).
 */
export function lazyChildLoggerFactory (logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  // A route's own logLevel gives the child another level than its parent's:
  // the level checks below would be wrong, so build the child at once.
  if (opts.level !== undefined) return logger.child(bindings, opts)
  return new LazyChildLogger(logger, bindings, opts)
}

interface LevelAware { isLevelEnabled?: (level: string) => boolean }

class LazyChildLogger {
  private real: FastifyBaseLogger | undefined
  declare fatal: LogFn
  declare error: LogFn
  declare warn: LogFn
  declare info: LogFn
  declare debug: LogFn
  declare trace: LogFn

  constructor (
    private readonly parent: FastifyBaseLogger,
    private readonly childBindings: Bindings,
    private readonly childOptions: ChildLoggerOptions
  ) {}

  /** The real pino child, built on first use. */
  get logger (): FastifyBaseLogger {
    this.real ??= this.parent.child(this.childBindings, this.childOptions)
    return this.real
  }

  get level (): string { return this.real?.level ?? this.parent.level }
  set level (level: string) { this.logger.level = level }

  isLevelEnabled (level: string): boolean {
    const source = (this.real ?? this.parent) as unknown as LevelAware
    return typeof source.isLevelEnabled === 'function' ? source.isLevelEnabled(level) : true
  }

  silent (): void {}

  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options)
  }
}

const LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace']
for (const level of LEVELS) {
  const write = function (this: LazyChildLogger, ...args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return
    const logger = this.logger
    ;(logger[level] as (...a: unknown[]) => void).apply(logger, args)
  }
  Object.defineProperty(LazyChildLogger.prototype, level, { value: write, writable: true, configurable: true })
}
