import { objAt, type Obj } from './body'
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
 */
export const ALLOWED_LOG_OPTIONS: readonly string[] = [
  'max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'
]

export function checkLogOptions (hc: Obj | undefined): Violation[] {
  const config = objAt(objAt(hc, 'LogConfig'), 'Config') ?? {}
  return Object.keys(config).filter(key => !ALLOWED_LOG_OPTIONS.includes(key)).map(key => {
    const field = formatPath(['HostConfig', 'LogConfig', 'Config', key])
    return { rule: 'log-options', field, message: `${field} is not an allowed log option (allowed: ${ALLOWED_LOG_OPTIONS.join(', ')})` }
  })
}
