// `hosts: { local: "tcp://127.0.0.1:PORT" }` (a host given as just its URL) in
// a config file: a gateway built from it routes /hosts/local/... to that
// daemon, and the container created through it is on the daemon.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { startGateway } from '../../helpers/gateway'

const d = requireDaemon(t)
if (d !== undefined) {
  t.test('a host given as a bare URL string routes to its daemon', async t => {
    const label = testLabel(__filename)
    t.teardown(async () => { await cleanupLabel(label) })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dgw-shorthand-'))
    t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
    const file = path.join(dir, 'gateway.yaml')
    // The second host's address has nothing listening: only the first is called.
    fs.writeFileSync(file, `hosts:\n  local: "${d.url}"\n  other: "tcp://127.0.0.1:1"\ndefaultHost: other\n`)
    const gw = await startGateway(t, { GATEWAY_CONFIG: file })
    const auth = { authorization: `Bearer ${gw.token()}` }

    const created = await fetch(`${gw.url}/hosts/local/containers/create`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ Image: d.image, Cmd: ['true'], Labels: label.labels })
    })
    t.equal(created.status, 201, 'created through /hosts/local')
    const { Id: id } = await created.json() as { Id: string }
    const onDaemon = await docker(`/containers/${id}/json`)
    t.equal(onDaemon.status, 200, 'the harness daemon has the container')
    t.equal(onDaemon.body.Config.Labels[label.key], label.value)

    const version = await fetch(`${gw.url}/hosts/local/version`, { headers: auth })
    t.equal((await version.json() as { Version: string }).Version, (await docker('/version')).body.Version, '/hosts/local/version is the daemon\'s')
  })
}
