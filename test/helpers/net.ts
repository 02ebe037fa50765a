import fs from 'node:fs'

export { freePort } from '../harness/net'

const ESTABLISHED = '01'

export interface ConnectionCountOptions {
  /**
   * Whose sockets count. 'tree' (default): this process and its descendants
   * (a gateway in-process or spawned by the test) -- other test files running
   * in parallel against the same daemon do not disturb the count. 'machine':
   * every socket on this host (network namespace).
   */
  scope?: 'tree' | 'machine'
  /** count the sockets of this process tree instead of process.pid's */
  pid?: number
}

function childrenMap (): Map<number, number[]> {
  const map = new Map<number, number[]>()
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = map.get(ppid) ?? []
      list.push(Number(name))
      map.set(ppid, list)
    } catch {}
  }
  return map
}

/** inodes of the sockets held open by `root` and its descendants */
function socketInodes (root: number): Set<string> {
  const inodes = new Set<string>()
  const children = childrenMap()
  const stack = [root]
  const seen = new Set<number>()
  while (stack.length > 0) {
    const pid = stack.pop() as number
    if (seen.has(pid)) continue
    seen.add(pid)
    stack.push(...(children.get(pid) ?? []))
    let fds: string[] = []
    try { fds = fs.readdirSync(`/proc/${pid}/fd`) } catch { continue }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))
        if (m?.[1]) inodes.add(m[1])
      } catch {}
    }
  }
  return inodes
}

/**
 * Number of ESTABLISHED TCP connections whose remote end is `port` (the
 * daemon's), read from /proc/net/tcp and /proc/net/tcp6. Used to prove that a
 * client disconnect leaves no daemon connection open. Keep-alive sockets of
 * the gateway's own pools count too: compare with a baseline, or close the
 * gateway's pool first.
 */
export function countDaemonConnections (port: number, opts: ConnectionCountOptions = {}): number {
  const scope = opts.scope ?? 'tree'
  const mine = scope === 'tree' ? socketInodes(opts.pid ?? process.pid) : undefined
  let count = 0
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try { text = fs.readFileSync(file, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const remote = cols[2]
      const state = cols[3]
      const inode = cols[9]
      if (!remote || state !== ESTABLISHED || !inode) continue
      if (parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16) !== port) continue
      if (mine && !mine.has(inode)) continue
      count++
    }
  }
  return count
}
