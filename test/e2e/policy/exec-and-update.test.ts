import t from 'tap'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { send } from '../../helpers/policy/client'

/**
 * Exec and update bodies against the real daemon: an exec may not ask for
 * every capability (Privileged) or for root, and `update` is held to the
 * create caps, so a container cannot be created small and grown later. A
 * denied call changes nothing on the daemon.
 */

const GiB = 1024 ** 3
const MiB = 1024 ** 2

const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  const principal = `e2e-${label.value}`
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('exec and update', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: principal, scope: 'containers:read containers:write containers:exec' })
    const call = async (path: string, body?: unknown) => await send(gw.url + path, token, 'POST', body)
    const inspect = async (id: string) => (await docker(`/containers/${id}/json`)).body

    const created = await call('/containers/create', { Image: d.image, Cmd: ['sleep', '300'], Labels: label.labels })
    t.equal(created.status, 201, created.text)
    const id = created.json.Id as string
    t.equal((await call(`/containers/${id}/start`)).status, 204)

    await t.test('exec: Privileged and root users are denied, and no exec instance is made', async t => {
      const denied: Array<[string, unknown, string]> = [
        ['Privileged', { Cmd: ['id'], Privileged: true }, 'policy denied: Privileged=true is not allowed for exec (it grants every capability) (rule: exec-privileged)'],
        ['"privileged" (lower case)', '{"Cmd":["id"],"privileged":true}', 'policy denied: Privileged=true is not allowed for exec (it grants every capability) (rule: exec-privileged)'],
        ['User root', { Cmd: ['id'], User: 'root' }, 'policy denied: User="root" is not allowed for exec (runs as root) (rule: exec-root-user)'],
        ['User 0', { Cmd: ['id'], User: '0' }, 'policy denied: User="0" is not allowed for exec (runs as root) (rule: exec-root-user)'],
        ['User ":" (empty user part is uid 0)', { Cmd: ['id'], User: ':' }, 'policy denied: User=":" is not allowed for exec (runs as root) (rule: exec-root-user)'],
        ['User "0:0"', { Cmd: ['id'], User: '0:0' }, 'policy denied: User="0:0" is not allowed for exec (runs as root) (rule: exec-root-user)'],
        ['User "+0" (strconv.Atoi reads it as 0)', { Cmd: ['id'], User: '+0' }, 'policy denied: User="+0" is not allowed for exec (runs as root) (rule: exec-root-user)'],
        ['"uſer" (long s) root', '{"Cmd":["id"],"U\\u017fer":"root"}', 'policy denied: User="root" is not allowed for exec (runs as root) (rule: exec-root-user)']
      ]
      for (const [name, body, message] of denied) {
        const res = await call(`/containers/${id}/exec`, body)
        t.equal(res.status, 403, name)
        t.same(res.json, { message }, name)
      }
      t.notOk((await inspect(id)).ExecIDs, 'the daemon has no exec instance for the container')
    })

    await t.test('exec: a normal exec is created and runs as the asked user', async t => {
      const res = await call(`/containers/${id}/exec`, { Cmd: ['sh', '-c', 'test "$(id -u):$(id -g)" = 1234:1234'], User: '1234:1234', AttachStdout: true })
      t.equal(res.status, 201, res.text)
      const execId = res.json.Id as string
      t.same((await inspect(id)).ExecIDs, [execId])
      const started = await call(`/exec/${execId}/start`, { Detach: true })
      t.equal(started.status, 200, started.text)
      let info: any
      for (let i = 0; i < 50; i++) {
        info = (await docker(`/exec/${execId}/json`)).body
        if (info.Running === false && info.ExitCode !== null) break
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      t.equal(info.ProcessConfig.user, '1234:1234')
      t.equal(info.ExitCode, 0, 'the process ran as 1234:1234, not root')
    })

    await t.test('update: the create caps hold, and a denied update changes nothing', async t => {
      const before = (await inspect(id)).HostConfig
      t.same([before.Memory, before.NanoCpus, before.PidsLimit], [GiB, 1e9, 1024], 'created with the defaults')
      const denied: Array<[string, unknown, RegExp]> = [
        ['Memory above the maximum', { Memory: 16 * GiB }, /^policy denied: Memory=17179869184 \(16 GiB\) is above the maximum 8589934592 \(8 GiB\) \(rule: resources\)$/],
        ['"memory" (lower case) above the maximum', `{"memory":${16 * GiB}}`, /^policy denied: Memory=17179869184 .*\(rule: resources\)$/],
        ['NanoCpus above the maximum', { NanoCpus: 8e9 }, /^policy denied: NanoCpus=8000000000 .*\(rule: resources\)$/],
        ['PidsLimit 0 (unlimited on update)', { PidsLimit: 0 }, /^policy denied: PidsLimit=0 is not allowed \(it means unlimited.*\(rule: resources\)$/],
        ['CpuQuota without CpuPeriod', { CpuQuota: 400000 }, /^policy denied: CpuQuota must be updated together with CpuPeriod .*\(rule: resources\)$/],
        ['duplicate Memory keys', `{"Memory":${256 * MiB},"Memory":${16 * GiB}}`, /duplicate/i]
      ]
      for (const [name, body, message] of denied) {
        const res = await call(`/containers/${id}/update`, body)
        t.equal(res.status, typeof body === 'string' && name.startsWith('duplicate') ? 400 : 403, name)
        t.match(res.json?.message, message, `${name}: ${res.text}`)
      }
      const after = (await inspect(id)).HostConfig
      t.same([after.Memory, after.NanoCpus, after.PidsLimit, after.CpuQuota], [before.Memory, before.NanoCpus, before.PidsLimit, before.CpuQuota], "the daemon's values are unchanged")

      const ok = await call(`/containers/${id}/update`, { Memory: 512 * MiB, MemorySwap: 512 * MiB, NanoCpus: 5e8, PidsLimit: 200 })
      t.equal(ok.status, 200, ok.text)
      const applied = (await inspect(id)).HostConfig
      t.same([applied.Memory, applied.NanoCpus, applied.PidsLimit], [512 * MiB, 5e8, 200], 'within the caps: applied')
    })
  })
}
