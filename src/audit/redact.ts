/**
 * What never reaches a log line: credentials and the values of container
 * environment variables (where passwords and API keys travel in create
 * and exec bodies). The gateway never logs request bodies in the first
 * place; these paths are the second line, for anything that logs an
 * object carrying them (an error with a request attached, a debug line).
 * Env names stay visible (`PASSWORD=[redacted]`): which variable was set is
 * useful, its value is not.
 */

const CREDENTIALS = ['authorization', 'proxy-authorization', 'cookie', 'x-registry-auth', 'token', 'accessToken', 'secret', 'password', 'jwtSecret']

function atDepths (key: string): string[] {
  const safe = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`
  const dot = safe.startsWith('[') ? '' : '.'
  return [safe, `*${dot}${safe}`, `*.*${dot}${safe}`, `*.*.*${dot}${safe}`]
}

export const REDACT_PATHS: readonly string[] = [
  ...CREDENTIALS.flatMap(atDepths),
  ...atDepths('Env')
]

export const REDACTED = '[redacted]'

export function censor (value: unknown, path: string[]): unknown {
  if (path[path.length - 1] === 'Env' && Array.isArray(value)) {
    return value.map(e => typeof e === 'string' && e.includes('=') ? `${e.slice(0, e.indexOf('='))}=${REDACTED}` : REDACTED)
  }
  return REDACTED
}

export const redactOptions = { paths: [...REDACT_PATHS], censor }

/**
 * For the dedicated audit logger: its lines are the flat record built field
 * by field in auditRecord(), never a request or a body, so exact top-level
 * paths cover it. Wildcard paths are walked for every line and cost about
 * 80 µs of CPU per request (bench/micro-logging.js); these cost almost nothing.
 */
export const auditRedactOptions = { paths: [...CREDENTIALS.filter(k => /^[A-Za-z_$][\w$]*$/.test(k)), 'Env'], censor }
