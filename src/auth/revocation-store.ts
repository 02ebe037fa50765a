import type { Config } from '../config/schema'
import type { RevocationStore } from './revocation'
import { FileRevocationStore } from './revocation-file'
import { RedisRevocationStore } from './revocation-redis'

/**
 * The one store a gateway and the `token revoke` command share for a
 * configuration: Redis when `redisUrl` is set (what every replica already
 * shares), else the data folder (where the first-start secret lives).
 */
export function openRevocationStore (config: Pick<Config, 'redisUrl' | 'dataDir'>): RevocationStore {
  return config.redisUrl !== undefined ? new RedisRevocationStore(config.redisUrl) : new FileRevocationStore(config.dataDir)
}
