import { readlinkSync } from 'node:fs'
import t from 'tap'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startGateway } from '../../helpers/gateway'
import { send, writeConfig } from '../../helpers/policy/client'

/**
 * Issue 10 finding 3: a create body without CgroupnsMode was forwarded as
 * is, and dockerd's default on a cgroup v1 host (and, on any host, for API
 * versions below 1.41) is "host": every container made through the gateway
 * shared the host's cgroup namespace, although "host" was refused when asked
 * for. Now the gateway injects "private". Asserted on the daemon: the
 * container's init process is in a cgroup namespace of its own (its
 * /proc/<pid>/ns/cgroup link differs from the host's), and inspect shows
 * CgroupnsMode "private". A control with `cgroupnsMode: allow-host` and an
 * explicit "host" shows the same probe does see a shared namespace.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })
  // dockerd (and so a "host" container) shares the cgroup namespace of the process tree that started
  // it: this one (/proc/1 may not be readable where the suite runs; the control below proves the probe).
  const hostNs = readlinkSync('/proc/self/ns/cgroup')
  const scope = 'containers:read containers:write'

  async function runThrough (url: string, token: string, path: string, body: Record<string, unknown>): Promise<{ id: string, ns: string, mode: unknown }> {
    const created = await send(`${url}${path}`, token, 'POST', { Image: d!.image, Cmd: ['sleep', '60'], Labels: label.labels, ...body })
    if (created.status !== 201) throw new Error(`create answered ${created.status} ${created.text}`)
    const id = created.json.Id as string
    const started = await send(`${url}/containers/${id}/start`, token, 'POST')
    if (started.status !== 204) throw new Error(`start answered ${started.status} ${started.text}`)
    const info = await docker(`/containers/${id}/json`)
    const pid = info.body.State.Pid as number
    return { id, ns: readlinkSync(`/proc/${pid}/ns/cgroup`), mode: info.body.HostConfig.CgroupnsMode }
  }

  t.test('a create without CgroupnsMode gets a private cgroup namespace', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'cgroupns', scope })
    const bodies: Array<[string, string, Record<string, unknown>]> = [
      ['no HostConfig', '/containers/create', {}],
      ['the docker CLI\'s "CgroupnsMode": ""', '/containers/create', { HostConfig: { CgroupnsMode: '' } }],
      ['API 1.40, where dockerd defaults to host on cgroup v1', '/v1.40/containers/create', { HostConfig: {} }]
    ]
    for (const [name, path, body] of bodies) {
      const c = await runThrough(gw.url, token, path, body)
      t.not(c.ns, hostNs, `${name}: the container's init is in its own cgroup namespace (${c.ns} vs host ${hostNs})`)
      t.equal(c.mode, 'private', `${name}: inspect shows CgroupnsMode private`)
    }
  })

  t.test('host stays refused by default and leaves no container', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'cgroupns', scope })
    const refused = await send(`${gw.url}/containers/create`, token, 'POST', { Image: d.image, Labels: { ...label.labels, 'dgw.case': 'host-refused' }, HostConfig: { CgroupnsMode: 'host' } })
    t.equal(refused.status, 403)
    t.match(refused.json.message, /HostConfig\.CgroupnsMode=host is not allowed .*cgroupnsMode: allow-host.*\(rule: host-namespace\)/)
    const list = await docker('/containers/json', { query: { all: true, filters: { label: [`${label.filter}`, 'dgw.case=host-refused'] } } })
    t.same(list.body, [], 'no container on the daemon')
  })

  t.test('control: with cgroupnsMode allow-host, an explicit host shares the host namespace (the probe can see it)', async t => {
    const { file } = writeConfig(t, { policy: { cgroupnsMode: 'allow-host' } })
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
    const token = gw.token({ sub: 'cgroupns', scope })
    const shared = await runThrough(gw.url, token, '/containers/create', { HostConfig: { CgroupnsMode: 'host' } })
    t.equal(shared.ns, hostNs, 'CgroupnsMode host: same cgroup namespace as the host')
    t.equal(shared.mode, 'host')
    const absent = await runThrough(gw.url, token, '/containers/create', {})
    t.not(absent.ns, hostNs, 'allow-host still injects private when the body names nothing')
  })
}
