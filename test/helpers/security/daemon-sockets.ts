// The connections this process holds to a daemon port, each named by its
// local port, so a test can follow ONE connection (an upgraded stream)
// rather than a count that keep-alive sockets of the gateway's pools move up
// and down on their own. The gateway under test runs in this process
// (startGateway). Not a test file.
import { ownSocketsTo } from './tcp-table'

/** Local ports of this process's ESTABLISHED TCP connections to `port`. */
export function daemonSockets (port: number): Set<number> {
  return new Set(ownSocketsTo(port).filter(e => e.state === 'ESTABLISHED').map(e => e.localPort))
}

/** The members of `after` not in `before`. */
export function added (before: Set<number>, after: Set<number>): number[] {
  return [...after].filter(p => !before.has(p))
}
