// The connections this process holds to a daemon port, each named by its
// local port, so a test can follow ONE connection (an upgraded stream)
// rather than a count that keep-alive sockets of the gateway's pools move up
// and down on their own. The gateway under test runs in this process
// (startGateway). Not a test file.
import fs from 'node:fs'

function ownSocketInodes (): Set<string> {
  const inodes = new Set<string>()
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))
      if (m?.[1] !== undefined) inodes.add(m[1])
    } catch {}
  }
  return inodes
}

/** Local ports of this process's ESTABLISHED TCP connections to `port`. */
export function daemonSockets (port: number): Set<number> {
  const mine = ownSocketInodes()
  const out = new Set<number>()
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try { text = fs.readFileSync(file, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      const [, local, remote, state] = cols
      const inode = cols[9]
      if (local === undefined || remote === undefined || state !== '01' || inode === undefined) continue
      if (parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16) !== port || !mine.has(inode)) continue
      out.add(parseInt(local.slice(local.lastIndexOf(':') + 1), 16))
    }
  }
  return out
}

/** The members of `after` not in `before`. */
export function added (before: Set<number>, after: Set<number>): number[] {
  return [...after].filter(p => !before.has(p))
}
