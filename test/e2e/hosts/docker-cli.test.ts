import t from 'tap'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { engineRequest } from '../../harness/engine'
import { NO_DOCKERD, startFleet } from '../../helpers/hosts/fleet'

const run = promisify(execFile)
const DOCKER = process.env.DOCKER_CLI ?? 'docker'

// The docker CLI uses DOCKER_HOST's URL path as a base path, so
// DOCKER_HOST=tcp://gateway:PORT/hosts/b talks to host b; the bearer token
// comes from config.json's HttpHeaders, which the CLI adds to every call.
t.test('docker CLI with DOCKER_HOST=tcp://127.0.0.1:PORT/hosts/b', { skip: NO_DOCKERD }, async t => {
  const { gw, daemons } = await startFleet(t, ['a', 'b', 'c'])
  const b = daemons.b as NonNullable<typeof daemons.b>
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgw-cli-'))
  t.teardown(() => { fs.rmSync(configDir, { recursive: true, force: true }) })
  // admin: this test is about routing, not ownership (containers made directly on the daemons have no owner label)
  const token = gw.token()
  fs.writeFileSync(path.join(configDir, 'config.json'), JSON.stringify({ HttpHeaders: { Authorization: `Bearer ${token}` } }))
  const docker = async (host: string, ...args: string[]): Promise<string> => {
    const { stdout } = await run(DOCKER, args, {
      env: { PATH: process.env.PATH, HOME: configDir, DOCKER_CONFIG: configDir, DOCKER_HOST: `tcp://127.0.0.1:${gw.port}/hosts/${host}` },
      timeout: 30_000
    })
    return stdout.trim()
  }

  const created = await engineRequest(b, '/containers/create', { query: { name: 'cli-on-b' }, json: { Image: b.image, Cmd: ['sleep', '300'] } })
  t.equal(created.status, 201)
  await engineRequest(b, '/containers/cli-on-b/start', { method: 'POST' })

  t.equal(await docker('b', 'ps', '--format', '{{.Names}}'), 'cli-on-b', 'docker ps on b lists b\'s container')
  t.equal(await docker('a', 'ps', '-a', '--format', '{{.Names}}'), '', 'and a has none')
  t.equal(await docker('b', 'version', '--format', '{{.Server.APIVersion}}'), '1.41')

  // The write path through the CLI lands on the named host only.
  const id = await docker('c', 'create', '--name', 'cli-made-on-c', b.image, 'sleep', '300')
  t.match(id, /^[0-9a-f]{64}$/)
  t.equal((await engineRequest(daemons.c!, `/containers/${id}/json`)).status, 200, 'c has it')
  t.equal((await engineRequest(b, `/containers/${id}/json`)).status, 404, 'b does not')
  await docker('c', 'start', 'cli-made-on-c')
  t.equal(await docker('c', 'ps', '--format', '{{.Names}} {{.State}}'), 'cli-made-on-c running')
  await docker('c', 'rm', '-f', 'cli-made-on-c')
  t.equal((await engineRequest(daemons.c!, `/containers/${id}/json`)).status, 404)

  // Without the token the CLI gets the gateway's 401; with a token limited to a, b is refused.
  fs.writeFileSync(path.join(configDir, 'config.json'), JSON.stringify({ HttpHeaders: { Authorization: `Bearer ${gw.token({ hosts: ['a'] })}` } }))
  const refused = await docker('b', 'ps').then(() => '', (err: { stderr: string }) => err.stderr)
  t.match(refused, /token does not allow host \\?"b\\?"/)
})
