import crypto from 'node:crypto'
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { engineRequest } from '../../harness/engine'
import { demux, makeTar, type TarEntry } from '../../helpers/tar'

/** The host directory of a container's root filesystem under the vfs storage driver. */
function containerRoot (dockerRoot: string, id: string): string {
  const mountId = readFileSync(path.join(dockerRoot, 'image', 'vfs', 'layerdb', 'mounts', id, 'mount-id'), 'utf8').trim()
  return path.join(dockerRoot, 'vfs', 'dir', mountId)
}

/**
 * docker cp into a container (PUT /containers/{id}/archive) with archives no
 * honest tar writer makes: `..` entries, absolute names, symlinks out of the
 * container (absolute and relative) followed by entries through them, hard
 * links to host paths, device nodes, setuid files. dockerd extracts in a
 * chroot of the container's root filesystem (chrootarchive), so every one of
 * them must land inside the container, and nothing on the HOST outside the
 * container's own layer may change. Checked on the host through the
 * container's root directory (the harness's daemon uses the vfs driver:
 * <DockerRootDir>/vfs/dir/<mount id>), and inside the container with exec.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })
  const run = crypto.randomBytes(4).toString('hex')

  /** Run a command in the container directly on the daemon; its stdout and stderr. */
  const execIn = async (id: string, cmd: string[]): Promise<{ stdout: string, stderr: string }> => {
    const created = await docker<{ Id: string }>(`/containers/${id}/exec`, { json: { Cmd: cmd, AttachStdout: true, AttachStderr: true } })
    const res = await engineRequest(d, `/exec/${created.body.Id}/start`, { method: 'POST', json: { Detach: false, Tty: false } })
    return demux(res.body)
  }

  t.test('a hostile tar lands inside the container, never on the host', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_DOCKER_CP: 'on' })
    const token = gw.token({ sub: `cp-${run}`, scope: 'containers:read containers:write containers:export containers:exec' })
    const auth = { authorization: `Bearer ${token}` }
    const created = await request(`${gw.url}/containers/create`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ Image: d.image, Cmd: ['sleep', '600'], Labels: label.labels })
    })
    t.equal(created.statusCode, 201)
    const id = (await created.body.json() as { Id: string }).Id
    t.equal((await docker(`/containers/${id}/start`, { method: 'POST' })).status, 204)
    await execIn(id, ['mkdir', '-p', '/tmp']) // the busybox image has none
    const dockerRoot = (await docker<{ DockerRootDir: string }>('/info')).body.DockerRootDir
    const rootDir = containerRoot(dockerRoot, id)
    t.ok(existsSync(path.join(rootDir, 'bin', 'busybox')), `the container's root on the host: ${rootDir}`)

    const put = async (dest: string, entries: TarEntry[]): Promise<{ status: number, text: string }> => {
      const res = await request(`${gw.url}/containers/${id}/archive?path=${encodeURIComponent(dest)}`, {
        method: 'PUT', headers: { ...auth, 'content-type': 'application/x-tar' }, body: makeTar(entries)
      })
      return { status: res.statusCode, text: await res.body.text() }
    }
    const m = (what: string): string => `${what}-${run}`

    /** Every file on the host whose name holds this run's marker, in the daemon's data root and the usual targets of an escape. */
    const hostHits = (): string[] => {
      const hits: string[] = []
      const walk = (dir: string): void => {
        let names: string[]
        try { names = readdirSync(dir) } catch { return }
        for (const name of names) {
          const p = path.join(dir, name)
          if (name.includes(run)) hits.push(p)
          try { if (lstatSync(p).isDirectory()) walk(p) } catch {}
        }
      }
      walk(dockerRoot)
      for (const dir of ['/', '/tmp', '/etc', '/root', path.dirname(dockerRoot)]) {
        for (const name of readdirSync(dir)) if (name.includes(run)) hits.push(path.join(dir, name))
      }
      return hits
    }
    await t.test('`..` entries are refused by the daemon, nothing written', async t => {
      const res = await put('/tmp', [{ name: `../../../../../../${m('dotdot')}`, body: 'dotdot' }])
      t.equal(res.status, 500)
      t.match(res.text, /is outside of/)
      t.notOk(existsSync(path.resolve(rootDir, 'tmp', `../../../../../../${m('dotdot')}`)), 'not where a naive extraction would put it')
      t.equal((await execIn(id, ['sh', '-c', `ls /${m('dotdot')} /tmp/${m('dotdot')} 2>&1 | grep -c 'No such'`])).stdout, '2\n', 'nor anywhere in the container')
    })

    await t.test('an absolute name is extracted under the destination', async t => {
      const res = await put('/tmp', [{ name: `/${m('absolute')}`, body: 'absolute' }])
      t.equal(res.status, 200, res.text)
      t.notOk(existsSync(`/${m('absolute')}`), 'not at the host\'s /')
      t.equal((await execIn(id, ['cat', `/tmp/${m('absolute')}`])).stdout, 'absolute')
    })

    await t.test('an entry through an absolute symlink of the archive lands at the container\'s /', async t => {
      const res = await put('/tmp', [
        { name: m('abs-link'), type: '2', linkname: '/' },
        { name: `${m('abs-link')}/${m('via-abs')}`, body: 'via absolute symlink' }
      ])
      t.equal(res.status, 200, res.text)
      t.notOk(existsSync(`/${m('via-abs')}`), 'not at the host\'s /')
      t.equal((await execIn(id, ['cat', `/${m('via-abs')}`])).stdout, 'via absolute symlink', 'at the container\'s /')
    })

    await t.test('a relative symlink that climbs out of the destination is refused', async t => {
      const res = await put('/tmp', [
        { name: m('rel-link'), type: '2', linkname: '../../../../../../..' },
        { name: `${m('rel-link')}/${m('via-rel')}`, body: 'via relative symlink' }
      ])
      t.equal(res.status, 500)
      t.match(res.text, /invalid symlink/)
      t.notOk(existsSync(path.resolve(rootDir, 'tmp', '../../../../../../..', m('via-rel'))), 'not on the host')
    })

    await t.test('a symlink already in the container, as the destination, resolves inside it', async t => {
      await execIn(id, ['ln', '-s', '/', `/tmp/${m('pre-link')}`])
      const res = await put(`/tmp/${m('pre-link')}`, [{ name: m('via-pre'), body: 'via pre-existing symlink' }])
      t.equal(res.status, 200, res.text)
      t.notOk(existsSync(`/${m('via-pre')}`), 'not at the host\'s /')
      t.equal((await execIn(id, ['cat', `/${m('via-pre')}`])).stdout, 'via pre-existing symlink', 'at the container\'s /')
    })

    await t.test('hard links reach only files under the destination', async t => {
      const absolute = await put('/tmp', [{ name: m('hard-abs'), type: '1', linkname: '/etc/hostname' }])
      t.equal(absolute.status, 500)
      t.match(absolute.text, /link \/tmp\/etc\/hostname/, 'an absolute target is read under the destination (and is not there)')
      const climbing = await put('/tmp', [{ name: m('hard-up'), type: '1', linkname: '../etc/hostname' }])
      t.equal(climbing.status, 500)
      t.match(climbing.text, /invalid hardlink/)
      t.equal((await execIn(id, ['sh', '-c', `ls /tmp | grep -c hard-; true`])).stdout, '0\n', 'no link made')
    })

    await t.test('device nodes are made, but the container cannot open them; setuid bits are kept', async t => {
      const res = await put('/tmp', [
        { name: m('mem'), type: '3', devmajor: 1, devminor: 1, mode: 0o666 },
        { name: m('disk'), type: '4', devmajor: 8, devminor: 0, mode: 0o666 },
        { name: m('suid'), body: '#!/bin/sh\nid\n', mode: 0o4755 }
      ])
      t.equal(res.status, 200, res.text)
      // dockerd runs as root and mknods what the archive says, in the container's root
      // (a container's root can do the same: CAP_MKNOD is a default capability).
      const node = lstatSync(path.join(rootDir, 'tmp', m('mem')))
      t.ok(node.isCharacterDevice() && node.rdev === 257, 'a 1:1 character node in the container\'s root directory on the host')
      // The device cgroup allows a container mknod, not read or write, outside its default devices.
      const read = await execIn(id, ['sh', '-c', `head -c 1 /tmp/${m('mem')}; head -c 1 /tmp/${m('disk')}; true`])
      t.equal(read.stdout, '', 'nothing read')
      t.match(read.stderr, new RegExp(`${m('mem')}: Operation not permitted[\\s\\S]*${m('disk')}: Operation not permitted`))
      t.match((await execIn(id, ['ls', '-l', `/tmp/${m('suid')}`])).stdout, /^-rwsr-xr-x\s+1 0\s+0 /, 'a setuid-root file in the container')
    })

    await t.test('on the host, every file of every case is inside the container\'s root', async t => {
      const hits = hostHits()
      t.ok(hits.length >= 6, `the cases' files are found (${hits.length})`)
      t.same(hits.filter(p => !p.startsWith(rootDir + path.sep)), [], 'none outside it')
    })
  })
}
