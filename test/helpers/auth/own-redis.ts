// A redis-server of a test's own, to take away and bring back while a
// gateway uses it: SIGKILL (connections refused), SIGSTOP (a hung Redis:
// connections open, no answers), and a restart on the same port (the
// gateway's clients reconnect by themselves). Torn down at t's teardown.
import { startRedis, type RedisServer } from '../../harness/redis'

export interface OwnRedis {
  readonly url: string
  /** SIGKILL: the port refuses connections until restart(). */
  kill: () => void
  /** SIGSTOP: connections stay open, nothing answers, until resume(). */
  pause: () => void
  resume: () => void
  /** A new redis-server on the same port (empty: no persistence). */
  restart: () => Promise<void>
}

export async function ownRedis (t: { teardown: (fn: () => unknown) => void }): Promise<OwnRedis> {
  let server: RedisServer = await startRedis()
  const port = server.port
  const signal = (sig: NodeJS.Signals): void => {
    const pid = server.pid
    if (pid === undefined) throw new Error(`redis-server on port ${port} is not running`)
    process.kill(pid, sig)
  }
  t.teardown(async () => {
    try { signal('SIGCONT') } catch {}
    await server.stop()
  })
  return {
    url: server.url,
    kill: () => { signal('SIGKILL') },
    pause: () => { signal('SIGSTOP') },
    resume: () => { signal('SIGCONT') },
    restart: async () => {
      await server.stop()
      server = await startRedis({ port })
    }
  }
}
