/**
 * Whether docker cp (`/containers/{id}/archive`) is served for a daemon.
 * Copying into or out of a container makes dockerd set up the container's
 * mounts in a private namespace; before Docker Engine 29.5.1 a process in
 * that container can race the setup and create files at host paths or
 * redirect a bind mount onto one (CVE-2026-41568 / GHSA-vp62-88p7-qqf5,
 * CVE-2026-42306 / GHSA-rg2x-37c3-w2rh). The container is the caller's own,
 * so ownership does not help: the daemon's version decides (config dockerCp).
 */

export type DockerCpSetting = 'auto' | 'on' | 'off'

/** The first Docker Engine release with both races fixed. */
export const DOCKER_CP_FIXED_IN: readonly [number, number, number] = [29, 5, 1]

/** `20.10.24+dfsg1` -> [20, 10, 24]; undefined when it reads as no release. */
export function engineVersion (version: string | undefined): [number, number, number] | undefined {
  const m = /^v?(\d{1,4})\.(\d{1,4})\.(\d{1,6})/.exec(version ?? '')
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])]
}

/** undefined when served; else why not, for the 403. */
export function dockerCpRefusal (setting: DockerCpSetting, daemonVersion: string | undefined): string | undefined {
  if (setting === 'on') return undefined
  if (setting === 'off') return 'docker cp is turned off on this gateway (config dockerCp: off)'
  const v = engineVersion(daemonVersion)
  const fixed = DOCKER_CP_FIXED_IN
  const newEnough = v !== undefined && (v[0] !== fixed[0] ? v[0] > fixed[0] : v[1] !== fixed[1] ? v[1] > fixed[1] : v[2] >= fixed[2])
  if (newEnough) return undefined
  return `docker cp is refused for this daemon (Docker Engine ${daemonVersion ?? 'of unknown version'}): before ${fixed.join('.')} a process in the container can race the copy onto host paths (CVE-2026-41568, CVE-2026-42306); upgrade the daemon, or set dockerCp: on if every principal with this scope is trusted`
}
