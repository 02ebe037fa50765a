import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { engineRequest } from '../../harness/engine'
import { cleanupLabel, containersLabelled, docker, testLabel } from '../../helpers/docker'
import { daemon, requireDaemon } from '../../helpers/env'
import { startGateway, type TestGateway } from '../../helpers/gateway'
import { demux } from '../../helpers/tar'
import { send } from '../../helpers/policy/client'
import { cleanEnv, describeRun, dockerConfigDir, runProcess, USER_SCOPES } from '../../helpers/clients/clients'

/**
 * Named volumes crossed tenants (review of the issue 10 fixes, HIGH): a named
 * volume source in `HostConfig.Binds` or a volume `Mount` was forwarded as
 * is, so principal A could mount B's volume and read and write B's data, and
 * any principal could mount a volume an operator made on the daemon (the
 * gateway's own data volume holds the signing secret). Now every named
 * volume a create mounts must be the caller's own: the gateway creates it
 * owner-labelled first, or finds it and checks the label
 * (src/ownership/volumes.ts). Asserted on the daemon: no container of the
 * refused caller exists, the volume's files and labels are unchanged, and
 * what a container read is read from its own output.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  const OWNER = 'docker-gateway.owner'
  const scope = 'containers:read containers:write'
  // Volume names of this run: unique, removed at the end.
  const vol = (what: string): string => `${label.value}-${what}`
  t.teardown(async () => {
    await cleanupLabel(label)
    const list = await docker<{ Volumes: Array<{ Name: string }> | null }>('/volumes', { query: { filters: { name: [label.value] } } })
    for (const v of list.body.Volumes ?? []) {
      // Names are matched as substrings by the daemon: remove only this run's (case-insensitively, for the case test).
      if (v.Name.toLowerCase().startsWith(label.value.toLowerCase())) await docker(`/volumes/${v.Name}`, { method: 'DELETE', query: { force: true } })
    }
  })

  interface Run { status: number, message: string | undefined, id?: string, stdout?: string, exit?: number }

  /** Create (through the gateway), start and wait for a container; its stdout as the daemon logged it. */
  async function run (gw: TestGateway, token: string, marker: string, hostConfig: Record<string, unknown>, script: string): Promise<Run> {
    const created = await send(`${gw.url}/containers/create`, token, 'POST', {
      Image: d!.image, Cmd: ['sh', '-c', script], Labels: { ...label.labels, 'dgw.case': marker }, HostConfig: hostConfig
    })
    if (created.status !== 201) return { status: created.status, message: created.json?.message }
    const id = created.json.Id as string
    const started = await send(`${gw.url}/containers/${id}/start`, token, 'POST')
    if (started.status !== 204) throw new Error(`start ${marker}: ${started.status} ${started.text}`)
    const waited = await docker<{ StatusCode: number }>(`/containers/${id}/wait`, { method: 'POST' })
    const logs = await engineRequest(daemon(), `/containers/${id}/logs?stdout=1&stderr=1`)
    return { status: 201, message: undefined, id, stdout: demux(logs.body).stdout, exit: waited.body.StatusCode }
  }

  /** A volume as the daemon stored it; no labels (null) reads as {}. */
  async function volumeInfo (name: string): Promise<{ status: number, labels: Record<string, string>, mountpoint: string }> {
    const res = await docker<{ Labels: Record<string, string> | null, Mountpoint: string }>(`/volumes/${name}`)
    if (res.status !== 200) throw new Error(`volume ${name}: ${res.status} ${res.text}`)
    return { status: res.status, labels: res.body.Labels ?? {}, mountpoint: res.body.Mountpoint }
  }

  /** A file inside a volume, read on the daemon's host from the volume's mountpoint (not through any container). */
  async function volumeFile (name: string, file: string): Promise<string> {
    return readFileSync(path.join((await volumeInfo(name)).mountpoint, file), 'utf8')
  }

  async function containersOf (principal: string): Promise<string[]> {
    const res = await docker<Array<{ Id: string }>>('/containers/json', { query: { all: true, filters: { label: [label.filter, `${OWNER}=${principal}`] } } })
    return res.body.map(c => c.Id)
  }

  const containersMarked = async (marker: string): Promise<string[]> => await containersLabelled(label.filter, `dgw.case=${marker}`)

  const notOwned = (field: string, name: string): string => `policy denied: ${field} names volume "${name}", which you do not own (rule: volume-ref)`

  t.test('B\'s named volume: A cannot mount it by Binds or Mounts, and B\'s data and labels stay as they were', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const bob = gw.token({ sub: 'bob', scope })
    const alice = gw.token({ sub: 'alice', scope })
    const name = vol('bob-secret')

    const wrote = await run(gw, bob, 'bob-writes', { Binds: [`${name}:/data`] }, 'echo s3cret-of-bob > /data/secret')
    t.equal(wrote.status, 201, `B creates with its new named volume: ${wrote.message ?? ''}`)
    t.equal(wrote.exit, 0, 'B\'s container wrote the secret')
    t.same((await volumeInfo(name)).labels, { [OWNER]: 'bob' }, 'the gateway created the volume owned by B')
    t.equal(await volumeFile(name, 'secret'), 's3cret-of-bob\n', 'the secret is in B\'s volume')

    const steal = 'cat /steal/secret; echo pwned-by-alice > /steal/secret'
    const attempts: Array<[string, Record<string, unknown>, string]> = [
      ['Binds', { Binds: [`${name}:/steal`] }, notOwned('HostConfig.Binds[0]', name)],
      ['Binds read-only, after an own anonymous volume', { Binds: ['/anon', `${name}:/steal:ro`] }, notOwned('HostConfig.Binds[1]', name)],
      ['Mounts', { Mounts: [{ Type: 'volume', Source: name, Target: '/steal' }] }, notOwned('HostConfig.Mounts[0].Source', name)],
      ['Mounts with a Subpath', { Mounts: [{ Type: 'volume', Source: name, Target: '/steal', VolumeOptions: { Subpath: '.' } }] }, notOwned('HostConfig.Mounts[0].Source', name)],
      ['Mounts with other labels', { Mounts: [{ Type: 'volume', Source: name, Target: '/steal', VolumeOptions: { Labels: { team: 'alice' } } }] }, notOwned('HostConfig.Mounts[0].Source', name)]
    ]
    for (const [what, hostConfig, message] of attempts) {
      const r = await run(gw, alice, `alice-${what}`, hostConfig, steal)
      t.equal(r.status, 403, `${what}: 403`)
      t.equal(r.message, message, `${what}: ${r.message ?? ''}`)
    }
    const forged = await run(gw, alice, 'alice-forged-label', { Mounts: [{ Type: 'volume', Source: name, Target: '/steal', VolumeOptions: { Labels: { [OWNER]: 'alice' } } }] }, steal)
    t.equal(forged.status, 403, 'a forged owner label in VolumeOptions.Labels: 403')
    t.match(forged.message, /VolumeOptions\.Labels\["docker-gateway\.owner"\] is set by the gateway and cannot be sent \(rule: volume-ref\)$/, forged.message ?? '')

    const path = await run(gw, alice, 'alice-path-as-volume', { Mounts: [{ Type: 'volume', Source: '/etc', Target: '/steal' }] }, 'true')
    t.equal(path.status, 403, 'a host path as a volume Source: 403')
    t.equal(path.message, 'policy denied: HostConfig.Mounts[0].Source="/etc" is not a volume name (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]+) (rule: volume-ref)')
    t.same(await containersOf('alice'), [], 'no container of A\'s exists on the daemon')
    t.equal(await volumeFile(name, 'secret'), 's3cret-of-bob\n', 'B\'s secret is unchanged')
    t.same((await volumeInfo(name)).labels, { [OWNER]: 'bob' }, 'B\'s volume still carries B as its only owner')

    const reread = await run(gw, bob, 'bob-reads', { Mounts: [{ Type: 'volume', Source: name, Target: '/data', ReadOnly: true }] }, 'cat /data/secret')
    t.equal(reread.status, 201, 'B mounts its own volume again (Mounts form)')
    t.equal(reread.stdout, 's3cret-of-bob\n', 'and reads its secret back')
  })

  t.test('a volume made directly on the daemon (no owner label) is refused to every non-admin; admin mounts anything', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const name = vol('operator-data')
    const made = await docker('/volumes/create', { json: { Name: name } })
    t.equal(made.status, 201, 'the operator\'s volume, as the gateway image\'s data volume would be')
    // Written on the daemon's host, as the gateway writes its jwt-secret into its data folder.
    // What the design rests on, checked on this daemon: creating an existing
    // name is a 201 that answers the EXISTING volume and leaves its labels as
    // they were (so a create can never relabel someone's volume).
    const again = await docker<{ Name: string, Labels: Record<string, string> | null }>('/volumes/create', { json: { Name: name, Driver: 'local', Labels: { [OWNER]: 'mallory' } } })
    t.equal(again.status, 201, 'volume create of an existing name: 201')
    t.same(again.body.Labels ?? {}, {}, 'it answers the existing volume\'s labels, not the ones asked for')
    t.same((await volumeInfo(name)).labels, {}, 'and stores none')
    writeFileSync(path.join((await volumeInfo(name)).mountpoint, 'jwt-secret'), 'operator-signing-secret\n')

    for (const sub of ['alice', 'bob']) {
      const token = gw.token({ sub, scope })
      const binds = await run(gw, token, `${sub}-operator-binds`, { Binds: [`${name}:/gw`] }, 'cat /gw/jwt-secret')
      t.equal(binds.status, 403, `${sub}, Binds: 403`)
      t.equal(binds.message, notOwned('HostConfig.Binds[0]', name), `${sub}, Binds: the same answer as for another principal's volume`)
      const mounts = await run(gw, token, `${sub}-operator-mounts`, { Mounts: [{ Type: 'volume', Source: name, Target: '/gw' }] }, 'cat /gw/jwt-secret')
      t.equal(mounts.status, 403, `${sub}, Mounts: 403`)
      t.equal(mounts.message, notOwned('HostConfig.Mounts[0].Source', name), `${sub}, Mounts: ${mounts.message ?? ''}`)
    }
    for (const marker of ['alice-operator-binds', 'alice-operator-mounts', 'bob-operator-binds', 'bob-operator-mounts']) {
      t.same(await containersMarked(marker), [], `${marker}: no container on the daemon`)
    }
    t.same((await volumeInfo(name)).labels, {}, 'the operator\'s volume got no owner label from the refused attempts (labels are not rewritten on an existing volume)')
    t.equal(await volumeFile(name, 'jwt-secret'), 'operator-signing-secret\n', 'its content is unchanged')

    const admin = gw.token({ sub: 'root-admin', scope: 'admin' })
    const bobVol = vol('bob-for-admin')
    const bobs = await run(gw, gw.token({ sub: 'bob', scope }), 'bob-for-admin', { Binds: [`${bobVol}:/d`] }, 'echo bobs-data > /d/f')
    t.equal(bobs.status, 201, 'B made a volume')
    const adminRun = await run(gw, admin, 'admin-mounts-all', { Binds: [`${name}:/gw:ro`], Mounts: [{ Type: 'volume', Source: bobVol, Target: '/b' }] }, 'cat /gw/jwt-secret /b/f')
    t.equal(adminRun.status, 201, `admin mounts the operator's and B's volumes: ${adminRun.message ?? ''}`)
    t.equal(adminRun.stdout, 'operator-signing-secret\nbobs-data\n', 'and reads both')
    t.same((await volumeInfo(name)).labels, {}, 'admin\'s mount did not claim the operator\'s volume')
  })

  t.test('A creates and reuses its own named volume; a name differing only in case is another volume', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const alice = gw.token({ sub: 'alice', scope })
    const name = vol('alice-notes')
    const first = await run(gw, alice, 'alice-writes', { Binds: [`${name}:/notes`] }, 'echo note-1 > /notes/n && echo written')
    t.equal(first.status, 201, `A's first container with a new named volume: ${first.message ?? ''}`)
    t.equal(first.stdout, 'written\n')
    t.same((await volumeInfo(name)).labels, { [OWNER]: 'alice' }, 'the volume is A\'s')
    const second = await run(gw, alice, 'alice-reads', { Mounts: [{ Type: 'volume', Source: name, Target: '/again', VolumeOptions: { Subpath: '' } }] }, 'cat /again/n')
    t.equal(second.status, 201, 'A\'s second container mounts it by Mounts')
    t.equal(second.stdout, 'note-1\n', 'and reads what the first wrote')

    const labelled = vol('alice-labelled')
    const withLabels = await run(gw, alice, 'alice-labelled', { Mounts: [{ Type: 'volume', Source: labelled, Target: '/l', VolumeOptions: { Labels: { team: 'red' } } }] }, 'true')
    t.equal(withLabels.status, 201, 'a new volume Mount with VolumeOptions.Labels')
    t.same((await volumeInfo(labelled)).labels, { team: 'red', [OWNER]: 'alice' }, 'the gateway created it with the caller\'s labels and the owner label')

    // B's volume under another case is a different name for the daemon: A gets an empty volume of its own.
    const bobs = vol('case-bob')
    t.equal((await run(gw, gw.token({ sub: 'bob', scope }), 'case-bob', { Binds: [`${bobs}:/d`] }, 'echo bob-case > /d/f')).status, 201, 'B made a volume')
    const upper = bobs.toUpperCase()
    t.teardown(async () => { await docker(`/volumes/${upper}`, { method: 'DELETE', query: { force: true } }) })
    const other = await run(gw, alice, 'alice-case', { Binds: [`${upper}:/d`] }, 'ls -A /d; echo end')
    t.equal(other.status, 201, 'A may use the upper-case name')
    t.equal(other.stdout, 'end\n', 'and finds it empty')
    t.same((await volumeInfo(upper)).labels, { [OWNER]: 'alice' }, 'the upper-case volume is A\'s')
    t.same((await volumeInfo(bobs)).labels, { [OWNER]: 'bob' }, 'B\'s is still B\'s')
    t.equal(await volumeFile(bobs, 'f'), 'bob-case\n', 'with B\'s data')
  })

  t.test('two principals racing for one new name: exactly one gets it', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    for (let round = 0; round < 4; round++) {
      const name = vol(`race-${round}`)
      const racers = ['alice', 'bob', 'carol']
      const results = await Promise.all(racers.map(async sub => await send(`${gw.url}/containers/create`, gw.token({ sub, scope }), 'POST', {
        Image: d.image, Cmd: ['true'], Labels: { ...label.labels, 'dgw.case': `race-${round}-${sub}` }, HostConfig: { Binds: [`${name}:/r`] }
      })))
      const winners = racers.filter((_, i) => results[i]!.status === 201)
      t.equal(winners.length, 1, `round ${round}: one winner (${results.map(r => r.status).join(', ')})`)
      t.ok(results.every(r => r.status === 201 || (r.status === 403 && r.json?.message === notOwned('HostConfig.Binds[0]', name))), `round ${round}: the others get the volume-ref 403`)
      t.same((await volumeInfo(name)).labels, { [OWNER]: winners[0] }, `round ${round}: the volume is the winner's`)
    }
  })

  t.test('the docker CLI: `-v name:/path` works for the owner and is refused for another principal', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const cli = async (sub: string, args: string[]) => {
      const config = await dockerConfigDir(t, gw.token({ sub, scope: USER_SCOPES }))
      return await runProcess('/usr/local/bin/docker', args, { env: cleanEnv({ DOCKER_HOST: `tcp://127.0.0.1:${gw.port}`, DOCKER_CONFIG: config }), timeoutMs: 60_000 })
    }
    const name = vol('cli')
    const write = await cli('alice', ['run', '--label', label.filter, '--label', 'dgw.case=cli-alice', '-v', `${name}:/v`, d.image, 'sh', '-c', 'echo from-cli > /v/f'])
    t.equal(write.code, 0, `docker run -v ${name}:/v as the owner: ${describeRun(write)}`)
    const read = await cli('alice', ['run', '--label', label.filter, '--label', 'dgw.case=cli-alice', '-v', `${name}:/v:ro`, d.image, 'cat', '/v/f'])
    t.equal(read.code, 0, describeRun(read))
    t.equal(read.stdout, 'from-cli\n', 'the owner reads it back')
    const other = await cli('bob', ['run', '--label', label.filter, '--label', 'dgw.case=cli-bob', '-v', `${name}:/v`, d.image, 'cat', '/v/f'])
    t.not(other.code, 0, 'another principal\'s docker run fails')
    t.match(other.stderr, notOwned('HostConfig.Binds[0]', name), `with the gateway's answer: ${other.stderr.trim()}`)
    t.same(await containersMarked('cli-bob'), [], 'and left no container on the daemon')
    t.same((await volumeInfo(name)).labels, { [OWNER]: 'alice' }, 'the volume is still A\'s')
  })

  t.test('ownership disabled: named volumes are forwarded as before', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_OWNERSHIP: 'false' })
    const name = vol('unowned')
    const r = await run(gw, gw.token({ sub: 'alice', scope }), 'no-ownership', { Binds: [`${name}:/u`] }, 'echo x > /u/f')
    t.equal(r.status, 201, `201: ${r.message ?? ''}`)
    t.same((await volumeInfo(name)).labels, {}, 'dockerd auto-created it, without an owner label')
  })
}
