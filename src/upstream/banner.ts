import type { HostHealth } from './health'

/**
 * The start banner's line about one daemon: which address the gateway
 * reached and what answered there (issue 13 item 8), or that nothing did.
 * A daemon that does not answer at start does not stop the gateway: the
 * health checks keep trying and calls to it work once it answers.
 */
export function daemonBannerLine (host: { name: string, config: { url: string }, health: HostHealth }): string {
  const { name, config: { url }, health } = host
  if (health.lastCheck === undefined) return `daemon "${name}": ${url}, not checked yet`
  if (health.error !== undefined) {
    return `WARNING: daemon "${name}": ${url} is not reachable (${health.error}); the gateway runs anyway, ` +
      'calls to it fail until it answers (GET /hosts shows its state)'
  }
  const what = [
    health.version !== undefined ? `Docker ${health.version}` : undefined,
    health.apiVersion !== undefined ? `API ${health.apiVersion}` : undefined
  ].filter(s => s !== undefined).join(', ')
  return `daemon "${name}": ${url}, reached${what !== '' ? `: ${what}` : ''}`
}
