/**
 * API versions in a `/v1.N/` prefix, checked as dockerd checks them
 * (daemon/server/middleware/version.go), with its wording.
 */

export interface ApiVersion { major: number, minor: number }

export interface VersionRange {
  min: ApiVersion
  /** Unset: the daemon decides what is too new (its reported Api-Version). */
  max?: ApiVersion
}

export function parseVersion (s: string): ApiVersion | undefined {
  const m = /^1\.(0|[1-9][0-9]{0,3})$/.exec(s)
  return m === null ? undefined : { major: 1, minor: Number(m[1]) }
}

export function compareVersions (a: ApiVersion, b: ApiVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor
}

export function versionRange (min: string, max: string | undefined): VersionRange {
  const range: VersionRange = { min: parseVersion(min) ?? { major: 1, minor: 24 } }
  const top = max !== undefined ? parseVersion(max) : undefined
  if (top !== undefined) range.max = top
  return range
}

/**
 * Why a version is refused (400), or undefined when it is served. `asked` is
 * what follows the `v` of a canonical prefix (canonical-path.ts has refused
 * other spellings); `ceiling` is the configured maximum or, without one, the
 * newest version the daemon reports.
 */
export function versionProblem (asked: ApiVersion, min: ApiVersion, ceiling: ApiVersion | undefined): string | undefined {
  const v = `${asked.major}.${asked.minor}`
  if (compareVersions(asked, min) < 0) {
    return `client version ${v} is too old. Minimum supported API version is ${min.major}.${min.minor}, please upgrade your client to a newer version`
  }
  if (ceiling !== undefined && compareVersions(asked, ceiling) > 0) {
    return `client version ${v} is too new. Maximum supported API version is ${ceiling.major}.${ceiling.minor}`
  }
  return undefined
}
