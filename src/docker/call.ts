import type { RouteDef } from './routes'
import type { Filters } from './query'
import type { ContainerRef, VolumeRef } from '../policy'
import type { UpstreamHost } from '../upstream/hosts'

/** What the hooks decided about one mirrored call, filled in as they run. */
export interface DockerCall {
  row: RouteDef
  /** Canonical `1.N`, if the client used a version prefix. */
  version?: string
  /** The container or exec the call addresses: as sent, then the resolved full id. */
  target?: string
  /** The image an image route names (daemon-wide: no ownership). */
  image?: string
  params: Map<string, string>
  filters?: Filters
  body?: string
  /** The vetted body object, when refs must be rewritten to full ids before re-serialising. */
  decoded?: Record<string, unknown>
  /** Containers a create body joins (Links, VolumesFrom, container:<x> modes): must be the caller's. */
  containerRefs: ContainerRef[]
  /** Named volumes a create body mounts: must be the caller's (created owned by it when new). */
  volumeRefs?: VolumeRef[]
  host?: UpstreamHost
  /** Reads the daemon's short answer as it is relayed (prune: forget the pruned ids). */
  onAnswer?: (status: number, body: Buffer) => void
}
