// tap `before` script (.taprc): run-level setup, once for all test files.
// Starts (or reuses) ONE Docker daemon and a redis-server, and records them
// in the state file that test/helpers/env.ts reads. It never fails the run:
// a missing daemon is reported loudly here, and each integration test then
// skips (or, in CI, fails) through requireDaemon(t).
import fs from 'node:fs'
import path from 'node:path'
import { cleanupStale, isAlive, procStart } from './cleanup.cjs'
import { dockerdInstalled, startDaemon } from './dockerd'
import { ping } from './engine'
import { TEST_IMAGE, ensureTestImage } from './image'
import { redisInstalled, startRedis } from './redis'
import { parseDockerHost, statePath, writeState, type HarnessState } from './state'

const say = (msg: string): void => { process.stderr.write(`# [harness] ${msg}\n`) }

function loud (msg: string): void {
  const bar = '!'.repeat(78)
  process.stderr.write(`\n${bar}\n!! ${msg.split('\n').join('\n!! ')}\n${bar}\n\n`)
}

/** state files of runs whose tap runner is gone (killed before after.ts ran) */
function removeStaleStateFiles (): void {
  const dir = path.dirname(statePath())
  let names: string[] = []
  try { names = fs.readdirSync(dir) } catch { return }
  for (const name of names) {
    const pid = /^run-(\d+)\.json$/.exec(name)?.[1]
    if (pid && !isAlive(Number(pid))) fs.rmSync(path.join(dir, name), { force: true })
  }
}

async function main (): Promise<void> {
  // the tap runner outlives this script; daemons belong to it, and the
  // watchdogs remove them if it dies without running after.ts
  const runner = process.ppid
  const t0 = Date.now()
  cleanupStale(say)
  removeStaleStateFiles()
  const state: HarnessState = {
    version: 1,
    runnerPid: runner,
    createdAt: new Date().toISOString(),
    daemon: null,
    daemonProblem: null,
    dockerdInstalled: dockerdInstalled(),
    redis: null,
    redisProblem: null,
    redisInstalled: redisInstalled()
  }

  const given = process.env.DOCKER_TEST_HOST
  if (given) {
    try {
      const info = parseDockerHost(given, TEST_IMAGE)
      if (!(await ping(info, 5000))) throw new Error('it does not answer GET /_ping')
      const t1 = Date.now()
      const imported = await ensureTestImage(info)
      state.daemon = info
      say(`reusing DOCKER_TEST_HOST=${given}${imported ? `, imported ${TEST_IMAGE} in ${Date.now() - t1} ms` : ''}`)
    } catch (err) {
      state.daemonProblem = `DOCKER_TEST_HOST=${given} is unusable: ${(err as Error).message}`
    }
  } else if (state.dockerdInstalled) {
    try {
      const d = await startDaemon({ name: 'primary', ownerPid: runner })
      state.daemon = {
        url: d.url,
        httpUrl: d.httpUrl,
        port: d.port,
        socketPath: d.socketPath,
        image: d.image,
        private: true,
        bridge: d.bridge,
        index: d.index
      }
      say(`private dockerd ${d.url} (unix://${d.socketPath}, bridge ${d.bridge}, ${d.subnet}): ` +
        `started in ${d.timings.start} ms, ${d.image} imported in ${d.timings.import} ms`)
    } catch (err) {
      state.daemonProblem = `could not start a private dockerd: ${(err as Error).message}`
    }
  } else {
    state.daemonProblem = 'dockerd is not installed (apt-get install docker.io) and DOCKER_TEST_HOST is not set'
  }
  if (state.daemonProblem) {
    const verdict = process.env.CI === 'true' || state.dockerdInstalled
      ? 'integration tests will FAIL'
      : 'integration tests will be SKIPPED'
    loud(`NO DOCKER DAEMON FOR THE INTEGRATION TESTS: ${verdict}\n${state.daemonProblem}`)
  }

  if (state.redisInstalled) {
    try {
      const r = await startRedis({ ownerPid: runner })
      state.redis = { url: r.url, port: r.port, private: true }
      say(`private redis-server ${r.url}`)
    } catch (err) {
      state.redisProblem = `could not start redis-server: ${(err as Error).message}`
      loud(state.redisProblem)
    }
  } else {
    state.redisProblem = 'redis-server is not installed (apt-get install redis-server)'
    loud(`NO REDIS: ${state.redisProblem}; tests that need it will be ${process.env.CI === 'true' ? 'FAILED' : 'SKIPPED'}`)
  }

  const file = writeState(state)
  say(`setup done in ${Date.now() - t0} ms; state in ${file} (runner ${runner}, started ${procStart(runner) ?? '?'})`)
}

main().catch(err => {
  // only a bug in the harness itself gets here
  process.stderr.write(`[harness] before: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
