// The kernel's TCP table (/proc/net/tcp, tcp6) with each socket's state, for
// tests that follow ONE connection through a half-close: after a FIN the
// gateway's side is FIN_WAIT2 and the daemon's CLOSE_WAIT, which counts of
// ESTABLISHED connections do not see. Not a test file.
import fs from 'node:fs'

export const TCP_STATE: Readonly<Record<string, string>> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING'
}

export interface TcpEntry {
  localPort: number
  remotePort: number
  state: string
  /** 0 for a socket no process holds any more (orphaned, e.g. FIN_WAIT2 after close) */
  inode: string
}

const port = (hexAddr: string): number => parseInt(hexAddr.slice(hexAddr.lastIndexOf(':') + 1), 16)

export function tcpTable (): TcpEntry[] {
  const out: TcpEntry[] = []
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try { text = fs.readFileSync(file, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      const [, local, remote, state] = cols
      const inode = cols[9]
      if (local === undefined || remote === undefined || state === undefined || inode === undefined) continue
      out.push({ localPort: port(local), remotePort: port(remote), state: TCP_STATE[state] ?? state, inode })
    }
  }
  return out
}

/** Inodes of the sockets this process holds open (the gateway under test runs in-process). */
export function ownSocketInodes (): Set<string> {
  const inodes = new Set<string>()
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))
      if (m?.[1] !== undefined) inodes.add(m[1])
    } catch {}
  }
  return inodes
}

/** This process's sockets to `remotePort`, in any state. */
export function ownSocketsTo (remotePort: number): TcpEntry[] {
  const mine = ownSocketInodes()
  return tcpTable().filter(e => e.remotePort === remotePort && mine.has(e.inode))
}

/** The other end of one of our connections to a local server: its socket with local port `serverPort` and remote port `clientPort`. */
export function peerOf (serverPort: number, clientPort: number): TcpEntry | undefined {
  return tcpTable().find(e => e.localPort === serverPort && e.remotePort === clientPort && e.state !== 'TIME_WAIT')
}
