import { objAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { formatPath } from './strict-json'
import type { Violation } from './types'

/**
 * `LogConfig.Config`: options dockerd hands to the log driver. The allowed
 * drivers (json-file, local, journald by default; `log-driver` checks the
 * type) take rotation and metadata options, which only shape the container's
 * own log. Other keys are where drivers read host-side things: addresses
 * (syslog-address, gelf-address, fluentd-address: connections from the host,
 * unix sockets included), TLS files read as root (syslog-tls-ca-cert, ...),
 * and `max-buffer-size` with `mode=non-blocking` (a buffer in dockerd's memory).
 * Only rotation and metadata keys pass (Docker docs, "Configure logging
 * drivers": json-file, local and journald options).
 *
 * The log files are written by dockerd on the host's disk (under
 * /var/lib/docker/containers), so their size is a host resource like memory:
 * `max-size` and `max-file` are capped (policy `logs.maxSize`/`logs.maxFile`),
 * and rotation is injected when the body leaves it out (json-file keeps one
 * unbounded file by default). See injectLogDefaults.
 */
export const ALLOWED_LOG_OPTIONS: readonly string[] = [
  'max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'
]

/** Drivers whose files dockerd rotates by max-size/max-file (daemon/logger/jsonfilelog, daemon/logger/local). */
const ROTATING_DRIVERS: readonly string[] = ['json-file', 'local']
/** The options the local driver accepts (daemon/logger/local/config.go ValidateLogOpt); json-file takes all of ALLOWED_LOG_OPTIONS. */
const LOCAL_OPTIONS: readonly string[] = ['max-size', 'max-file', 'compress']

type Logs = PolicyRules['logs']

/**
 * A size in go-units notation (`10m`, `1.5g`, `100KiB`, `2048`), as dockerd
 * reads max-size (units.FromHumanSize / RAMInBytes). Read with 1024
 * multipliers, the larger of the two readings, so a value under the cap is
 * under it either way. undefined = not a size this parser accepts (then it is
 * refused; dockerd's parser is never looser in a way that matters here).
 */
export function parseLogSize (value: string): number | undefined {
  const m = /^([0-9]{1,15})(\.[0-9]{1,6})? ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value)
  if (m === null) return undefined
  const unit = (m[3] ?? '').toLowerCase()
  const power = unit === '' ? 0 : 'kmgtp'.indexOf(unit) + 1
  return Math.ceil(Number(`${m[1] as string}${m[2] ?? ''}`) * 1024 ** power)
}

export function checkLogOptions (hc: Obj | undefined, logs?: Logs): Violation[] {
  const config = objAt(objAt(hc, 'LogConfig'), 'Config') ?? {}
  const out: Violation[] = Object.keys(config).filter(key => !ALLOWED_LOG_OPTIONS.includes(key)).map(key => {
    const field = formatPath(['HostConfig', 'LogConfig', 'Config', key])
    return { rule: 'log-options', field, message: `${field} is not an allowed log option (allowed: ${ALLOWED_LOG_OPTIONS.join(', ')})` }
  })
  if (logs === undefined) return out
  const push = (key: string, message: string): void => {
    const field = formatPath(['HostConfig', 'LogConfig', 'Config', key])
    out.push({ rule: 'log-options', field, message: `${field}=${JSON.stringify(config[key])} ${message}` })
  }
  const size = config['max-size']
  if (typeof size === 'string') {
    const n = parseLogSize(size)
    const cap = logs.maxSize === '' ? undefined : parseLogSize(logs.maxSize)
    if (n === undefined || n <= 0) push('max-size', 'is not allowed (a positive size such as "20m")')
    else if (cap !== undefined && n > cap) push('max-size', `is above the maximum ${JSON.stringify(logs.maxSize)} (log files are written on the host's disk)`)
  }
  const files = config['max-file']
  if (typeof files === 'string') {
    const n = /^[0-9]{1,9}$/.test(files) ? Number(files) : undefined
    if (n === undefined || n < 1) push('max-file', 'is not allowed (a whole number of at least 1)')
    else if (logs.maxFile > 0 && n > logs.maxFile) push('max-file', `is above the maximum ${logs.maxFile} (log files are written on the host's disk)`)
  }
  return out
}

/**
 * Rotation made explicit. With no LogConfig the daemon's default driver is
 * used, json-file on a stock dockerd, which keeps one file that grows without
 * bound (Docker docs, "JSON File logging driver": max-size defaults to -1).
 * When Type is empty, `logs.defaultDriver` is filled in (nothing when it is
 * ""). Its default is json-file rather than local: docker-py's
 * `containers.run()` returns the output only for json-file and journald
 * (docker/models/containers.py), so local would break it. With
 * defaultDriver local, a body that sets options local refuses (tag, labels,
 * env: daemon/logger/local/config.go) gets json-file. For json-file and
 * local, `max-size`/`max-file` are filled in from
 * `logs.defaultMaxSize`/`logs.defaultMaxFile` when absent.
 */
export function injectLogDefaults (hc: Obj, logs: Logs): void {
  const logConfig: Obj = objAt(hc, 'LogConfig') ?? {}
  const config: Obj = objAt(logConfig, 'Config') ?? {}
  let type = strAt(logConfig, 'Type') ?? ''
  if (type === '' && logs.defaultDriver !== '') {
    type = logs.defaultDriver === 'local' && Object.keys(config).some(k => !LOCAL_OPTIONS.includes(k)) ? 'json-file' : logs.defaultDriver
  }
  if (type === '') return
  if (ROTATING_DRIVERS.includes(type)) {
    if (config['max-size'] === undefined && logs.defaultMaxSize !== '') config['max-size'] = logs.defaultMaxSize
    if (config['max-file'] === undefined && logs.defaultMaxFile > 0) config['max-file'] = String(logs.defaultMaxFile)
  }
  hc.LogConfig = { ...logConfig, Type: type, Config: config }
}
