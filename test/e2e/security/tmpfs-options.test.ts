import { readFileSync, statSync } from 'node:fs'
import t from 'tap'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startGateway } from '../../helpers/gateway'
import { send } from '../../helpers/policy/client'

/**
 * Issue 10 finding 8: HostConfig.Tmpfs option strings were forwarded
 * unchecked, and runc applies every mount option it knows: `bind`/`rbind`
 * make it bind-mount the tmpfs's source, resolved in its bundle directory on
 * the host; `suid`/`dev` undo dockerd's nosuid/nodev; propagation flags share
 * mounts with the host. Now the options are an allow-list (src/policy/tmpfs.ts)
 * for HostConfig.Tmpfs and tmpfs Mounts alike, and targets must be clean
 * paths outside /proc and /sys. Asserted on the daemon: refused bodies leave
 * no container; an allowed tmpfs is mounted with exactly the options asked
 * for plus nosuid and nodev, read from the container's /proc/<pid>/mounts.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })
  const scope = 'containers:read containers:write'

  t.test('refused tmpfs options and targets are a 403 and leave no container', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'tmpfs', scope })
    const refused: Array<[string, Record<string, unknown>, RegExp]> = [
      ['rbind', { Tmpfs: { '/t': 'rbind' } }, /Tmpfs\["\/t"\]="rbind": the option "rbind" is not allowed \(it turns the tmpfs into a recursive bind mount/],
      ['bind', { Tmpfs: { '/t': 'bind' } }, /the option "bind" is not allowed/],
      ['exec,suid,dev', { Tmpfs: { '/t': 'exec,suid,dev' } }, /the option "suid" is not allowed/],
      ['rshared', { Tmpfs: { '/t': 'size=1m,rshared' } }, /"rshared" is a mount propagation flag/],
      ['size as a share of host RAM', { Tmpfs: { '/t': 'size=50%' } }, /share of the host's RAM/],
      ['target under /proc', { Tmpfs: { '/proc/sys': '' } }, /is under \/proc/],
      ['tmpfs Mount with Options rbind', { Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { Options: [['rbind']] } }] }, /TmpfsOptions\.Options\[0\]: the option "rbind" is not allowed/],
      ['tmpfs Mount of 64 GiB', { Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 ** 3 } }] }, /SizeBytes=68719476736 is above the maximum tmpfs size/]
    ]
    for (const [name, hostConfig, message] of refused) {
      const marker = name.replace(/[^a-z0-9]+/gi, '-')
      const res = await send(`${gw.url}/containers/create`, token, 'POST', { Image: d.image, Cmd: ['true'], Labels: { ...label.labels, 'dgw.case': marker }, HostConfig: hostConfig })
      t.equal(res.status, 403, `${name}: 403`)
      t.match(res.json?.message, message, `${name}: ${res.json?.message as string}`)
      t.match(res.json?.message, /\(rule: tmpfs-options\)$/, `${name}: rule tmpfs-options`)
      const left = await docker<Array<{ Id: string }>>('/containers/json', { query: { all: true, filters: { label: [label.filter, `dgw.case=${marker}`] } } })
      t.same(left.body, [], `${name}: no container on the daemon`)
    }
  })

  t.test('allowed tmpfs mounts are made with the options asked for, and nosuid,nodev', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'tmpfs', scope })
    const created = await send(`${gw.url}/containers/create`, token, 'POST', {
      Image: d.image,
      Cmd: ['sleep', '60'],
      Labels: label.labels,
      HostConfig: {
        Tmpfs: { '/scratch': 'size=64m,mode=1777', '/build': 'exec,size=16m' },
        Mounts: [{ Type: 'tmpfs', Target: '/cache', TmpfsOptions: { SizeBytes: 32 * 1024 ** 2, Mode: 0o700 } }]
      }
    })
    t.equal(created.status, 201, created.text)
    const id = created.json.Id as string
    const started = await send(`${gw.url}/containers/${id}/start`, token, 'POST')
    t.equal(started.status, 204, started.text)
    const pid = (await docker(`/containers/${id}/json`)).body.State.Pid as number
    const mounts = new Map(readFileSync(`/proc/${pid}/mounts`, 'utf8').split('\n').map(l => l.split(' ')).filter(f => f.length >= 4).map(f => [f[1]!, { type: f[2]!, options: f[3]!.split(',') }]))
    const scratch = mounts.get('/scratch')
    t.equal(scratch?.type, 'tmpfs', '/scratch is a tmpfs')
    t.ok(['nosuid', 'nodev', 'noexec', 'size=65536k'].every(o => scratch?.options.includes(o)), `/scratch: nosuid,nodev,noexec,size=64m (${scratch?.options.join(',') ?? 'absent'})`)
    // The kernel lists mode= only when it is not tmpfs's default 1777, so look at the directory itself.
    t.equal(statSync(`/proc/${pid}/root/scratch`).mode & 0o7777, 0o1777, '/scratch: mode 1777')
    const build = mounts.get('/build')
    t.ok(['nosuid', 'nodev', 'size=16384k'].every(o => build?.options.includes(o)) && build?.options.includes('noexec') === false,
      `/build: exec asked for, nosuid,nodev kept (${build?.options.join(',') ?? 'absent'})`)
    const cache = mounts.get('/cache')
    t.ok(cache?.type === 'tmpfs' && ['nosuid', 'nodev', 'size=32768k', 'mode=700'].every(o => cache.options.includes(o)), `/cache (Mounts): nosuid,nodev,size,mode (${cache?.options.join(',') ?? 'absent'})`)
    t.notOk([...mounts.values()].some(m => m.options.includes('suid') || m.options.includes('dev')), 'no mount with suid or dev')
  })
}
