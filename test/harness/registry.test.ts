// The private registry helper (test/helpers/registry.ts): an image pushed into
// it through the daemon, then removed from the daemon, comes back by a pull
// the daemon makes from that registry; stopping the registry stops the process
// and removes its directory and record, and so does the watchdog when the
// registry's owner dies without stopping it.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { requireDaemon } from '../helpers/env'
import { docker } from '../helpers/docker'
import { waitFor } from '../helpers/wait'
import { hasImage, NO_REGISTRY_AUTH, progressMessages, pushImage, removeImage, requireRegistry, startRegistry } from '../helpers/registry'
import { isAlive, processesMentioning, RECORDS_DIR } from './cleanup.cjs'

const d = requireDaemon(t)
if (d !== undefined && requireRegistry(t)) {
  t.test('push, remove, pull back', async t => {
    const reg = await startRegistry(t)
    t.match(reg.host, /^127\.0\.0\.1:\d+$/)

    for (const distinct of [false, true]) {
      const repo = distinct ? 'dgw/distinct' : 'dgw/retagged'
      const pushed = await pushImage(reg, { repo, tag: 'v1', distinct })
      t.equal(pushed.ref, `${reg.host}/${repo}:v1`)
      t.match(pushed.digest, /^sha256:[0-9a-f]{64}$/)
      // The registry has the manifest under that tag, with the digest the push reported.
      const manifest = await fetch(`${reg.url}/v2/${repo}/manifests/v1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })
      t.equal(manifest.status, 200, `${repo}: the registry serves the manifest`)
      t.equal(manifest.headers.get('docker-content-digest'), pushed.digest)
      await manifest.arrayBuffer()

      await removeImage(pushed.ref)
      t.notOk(await hasImage(pushed.ref), `${repo}: gone from the daemon`)
      if (distinct) t.equal((await docker(`/images/${pushed.imageId}/json`)).status, 404, 'the distinct image is gone with its id, not just its tag')

      // The registry's access lines of the daemon's manifest requests (HEAD or GET, by tag or digest).
      const pulls = (): number => reg.log().split('\n').filter(l => l.includes(` /v2/${repo}/manifests/`) && l.includes('"docker/')).length
      const before = pulls()
      const pulled = await docker('/images/create', {
        method: 'POST',
        query: { fromImage: pushed.name, tag: 'v1' },
        headers: { 'X-Registry-Auth': NO_REGISTRY_AUTH },
        timeoutMs: 120_000
      })
      t.equal(pulled.status, 200)
      const messages = progressMessages(pulled.text, `pull ${pushed.ref}`)
      t.ok(messages.some(m => String(m.status).includes(`Digest: ${pushed.digest}`)), `${repo}: the pull got the pushed digest`)
      if (distinct) t.ok(messages.some(m => m.status === 'Pull complete'), 'a layer was downloaded from the registry')
      await waitFor(() => pulls() > before, 5000)
      t.pass(`${repo}: the daemon fetched the manifest from the registry`)
      const inspect = await docker(`/images/${pushed.ref}/json`)
      t.equal(inspect.status, 200, `${repo}: the daemon has the image again`)
      t.equal(inspect.body.Id, pushed.imageId, `${repo}: the same image`)
      t.same(inspect.body.RepoDigests, [`${pushed.name}@${pushed.digest}`])
      await removeImage(pushed.ref)
    }
  })

  t.test('stop ends the registry and removes its traces', async t => {
    const reg = await startRegistry()
    const record = `${RECORDS_DIR}/registry-${reg.port}.json`
    const { pid } = JSON.parse(fs.readFileSync(record, 'utf8')) as { pid: number }
    t.ok(isAlive(pid), 'running')
    t.ok(processesMentioning(`${reg.dir}/`).includes(pid), 'its command line names its directory (how the watchdog finds it)')
    await reg.stop()
    t.notOk(isAlive(pid), 'stopped')
    t.notOk(fs.existsSync(reg.dir), 'directory removed')
    t.notOk(fs.existsSync(record), 'record removed')
    await t.rejects(fetch(`${reg.url}/v2/`), 'nothing answers on its port')
  })

  t.test('the watchdog removes the registry of an owner that died', async t => {
    const owner = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'registry-owner.ts')], { stdio: ['ignore', 'pipe', 'inherit'] })
    t.teardown(() => { owner.kill('SIGKILL') })
    let out = ''
    owner.stdout.on('data', (b: Buffer) => { out += b.toString() })
    await waitFor(() => out.includes('\n'), 30_000)
    const { port, dir, pid } = JSON.parse(out) as { port: number, dir: string, pid: number }
    t.ok(isAlive(pid), 'the registry runs')
    owner.kill('SIGKILL')
    await waitFor(() => !isAlive(pid) && !fs.existsSync(dir) && !fs.existsSync(`${RECORDS_DIR}/registry-${port}.json`), 15_000)
    t.pass('the owner was killed: process, directory and record are gone')
  })
}
