// tap `after` script (.taprc): tears down what before.ts started. A run that
// never gets here (Ctrl-C, crash) is cleaned by the watchdogs, or by the
// stale-resource sweep at the start of the next run.
import fs from 'node:fs'
import { attachDaemon } from './dockerd'
import { attachRedis } from './redis'
import { readState, statePath } from './state'

const say = (msg: string): void => { process.stderr.write(`# [harness] ${msg}\n`) }

async function main (): Promise<void> {
  const state = readState()
  if (!state) {
    say(`no state file ${statePath()}: nothing to tear down`)
    return
  }
  const t0 = Date.now()
  const d = state.daemon
  if (d?.private && d.index !== null) {
    try {
      await attachDaemon(d.index).destroy()
    } catch (err) {
      say(`tearing down ${d.url}: ${(err as Error).message}`)
    }
  }
  if (state.redis?.private) await attachRedis(state.redis.port).stop()
  fs.rmSync(statePath(), { force: true })
  say(`teardown done in ${Date.now() - t0} ms`)
}

main().catch(err => {
  process.stderr.write(`[harness] after: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
