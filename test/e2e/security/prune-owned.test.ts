import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { waitFor } from '../../helpers/wait'
import { cleanEnv, describeRun, dockerConfigDir, runProcess, USER_SCOPES } from '../../helpers/clients/clients'

/**
 * Issue 13 item 5, on the real app against the real daemon: `docker
 * container prune` (the CLI) and docker-py's `containers.prune()` remove the
 * caller's stopped containers only, and answer with those alone; the other
 * principal's stopped containers and everyone's running ones are still on
 * the daemon afterwards. An admin's prune is dockerd's own (here narrowed to
 * this file's label: the daemon is shared with other test files).
 */

const DOCKER = '/usr/local/bin/docker'
const PYTHON = '/usr/bin/python3'

const PRUNE = `
import json, sys, docker
url, token = sys.argv[1:3]
client = docker.DockerClient(base_url=url, version='1.41', timeout=60)
client.api.headers['Authorization'] = 'Bearer ' + token
print(json.dumps(client.containers.prune()))
`

const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('prune, owned', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const suffix = `${process.pid}-${label.value.slice(-8)}`
    const tokens = {
      alice: gw.token({ sub: `alice-${suffix}`, scope: USER_SCOPES }),
      bob: gw.token({ sub: `bob-${suffix}`, scope: USER_SCOPES }),
      admin: gw.token({ sub: 'root', scope: 'admin' })
    }
    type Who = keyof typeof tokens
    const envs = {} as Record<Who, NodeJS.ProcessEnv>
    for (const w of Object.keys(tokens) as Who[]) envs[w] = cleanEnv({ DOCKER_HOST: `tcp://127.0.0.1:${gw.port}`, DOCKER_CONFIG: await dockerConfigDir(t, tokens[w]) })
    const cli = async (w: Who, args: string[]) => await runProcess(DOCKER, args, { env: envs[w], timeoutMs: 60_000 })
    const exists = async (id: string) => (await docker(`/containers/${id}/json`)).status === 200

    /** A container of `w`'s through the gateway: running (sleep) or stopped (exited 0). */
    const make = async (w: 'alice' | 'bob', running: boolean, extra: string[] = []): Promise<string> => {
      const r = await cli(w, ['run', '-d', '--label', label.filter, ...extra, d.image, ...(running ? ['sleep', '300'] : ['true'])])
      t.equal(r.code, 0, describeRun(r))
      const id = r.stdout.trim()
      if (!running) await waitFor(async () => (await docker(`/containers/${id}/json`)).body.State.Status === 'exited', 20_000)
      return id
    }
    const [aStopped, aKept, aRunning, bStopped, bRunning] = await Promise.all([
      make('alice', false), make('alice', false, ['--label', 'keep=1']), make('alice', true), make('bob', false), make('bob', true)
    ])

    await t.test('docker container prune -f: only alice\'s stopped containers, and the answer names only them', async t => {
      const r = await cli('alice', ['container', 'prune', '-f', '--filter', 'label!=keep'])
      t.equal(r.code, 0, describeRun(r))
      const listed = r.stdout.split('\n').filter(l => /^[0-9a-f]{64}$/.test(l))
      t.same(listed, [aStopped], 'Deleted Containers: her stopped one (label!=keep spared the other)')
      t.match(r.stdout, /Total reclaimed space: /)
      t.notOk(await exists(aStopped), 'gone from the daemon')
      t.ok(await exists(aKept), 'label!=keep: still there')
      t.ok(await exists(aRunning), 'her running container is untouched')
      t.ok(await exists(bStopped), 'bob\'s stopped container is still there')
      t.ok(await exists(bRunning))
    })

    await t.test('the raw answer: ContainersDeleted and SpaceReclaimed of the caller\'s own only; a filter naming bob cannot widen it', async t => {
      const res = await request(`${gw.url}/containers/prune?filters=${encodeURIComponent(JSON.stringify({ label: [`docker-gateway.owner=bob-${suffix}`] }))}`, {
        method: 'POST', headers: { authorization: `Bearer ${tokens.alice}` }
      })
      t.equal(res.statusCode, 200)
      t.same(await res.body.json(), { ContainersDeleted: null, SpaceReclaimed: 0 }, 'ANDed with her own owner label: nothing')
      t.ok(await exists(bStopped))
      const bad = await request(`${gw.url}/containers/prune?filters=${encodeURIComponent('{"status":["exited"]}')}`, { method: 'POST', headers: { authorization: `Bearer ${tokens.alice}` } })
      t.equal(bad.statusCode, 400)
      t.same(await bad.body.json(), { message: "invalid filter 'status'" })
    })

    await t.test('docker-py client.containers.prune(): bob\'s stopped container only', async t => {
      const r = await runProcess(PYTHON, ['-c', PRUNE, gw.url.replace('http:', 'tcp:'), tokens.bob], { env: cleanEnv(), timeoutMs: 60_000 })
      t.equal(r.code, 0, describeRun(r))
      const answer = JSON.parse(r.stdout) as { ContainersDeleted: string[] | null, SpaceReclaimed: number }
      t.same(answer.ContainersDeleted, [bStopped])
      t.type(answer.SpaceReclaimed, 'number')
      t.notOk(await exists(bStopped))
      t.ok(await exists(bRunning), 'his running one stays')
      t.ok(await exists(aKept), 'alice\'s stopped one stays')
      t.ok(await exists(aRunning))
    })

    await t.test('an admin\'s prune is the daemon\'s own: every principal\'s stopped containers', async t => {
      const bLate = await make('bob', false)
      const r = await cli('admin', ['container', 'prune', '-f', '--filter', `label=${label.filter}`])
      t.equal(r.code, 0, describeRun(r))
      const listed = r.stdout.split('\n').filter(l => /^[0-9a-f]{64}$/.test(l)).sort()
      t.same(listed, [aKept, bLate].sort(), 'alice\'s and bob\'s')
      t.ok(await exists(aRunning) && await exists(bRunning), 'running containers stay')
    })
  })
}
