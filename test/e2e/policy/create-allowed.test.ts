import t from 'tap'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { cases, TABLE_POLICY, tableConfig } from '../../helpers/policy/cases'
import { PY_CREATE } from '../../helpers/policy/fixtures'
import { vetCreate, type PolicyContext } from '../../../src/policy'
import { containersLabelled, send, withLabels, writeConfig } from '../../helpers/policy/client'

/**
 * Bodies the policy allows, end to end: the container exists on the real
 * daemon with what the body asked for, the resource defaults the policy
 * injects where the body set none, and the caller's owner label; keys in the
 * spellings SDKs use (docker-py's `CPURealtimePeriod`) or that Go's folding
 * accepts land under the daemon's real field names.
 */

const GiB = 1024 ** 3
const { resources } = tableConfig

/** Allowed table bodies the real daemon can create (no missing network, volume or host path). */
type Asserts = Pick<typeof t, 'equal' | 'same' | 'ok' | 'notOk'>
const FROM_TABLE: Record<string, (t: Asserts, hc: any) => void> = {
  'minimal body': () => {},
  'docker CLI: docker create': () => {},
  'dockerode: bind under the allowed prefix with :rw,z': (t, hc) => { t.same(hc.Binds, ['/srv/data:/data:rw,z']); t.equal(hc.Memory, 512 * 1024 ** 2) },
  'Privileged: false is fine': (t, hc) => { t.equal(hc.Privileged, false) },
  'IpcMode shareable, CgroupnsMode private': (t, hc) => { t.equal(hc.IpcMode, 'shareable') },
  'Binds /srv/data/ with a trailing slash and // inside': (t, hc) => { t.same(hc.Binds, ['/srv//data/:/data:ro']) },
  'CapAdd the allowed capability in any spelling': (t, hc) => { t.same(hc.CapDrop, ['ALL']) },
  'SecurityOpt no-new-privileges in every spelling': (t, hc) => { t.equal(hc.SecurityOpt.length, 3) },
  'Ulimits NOFILE within the cap': (t, hc) => { t.same(hc.Ulimits, [{ Name: 'NOFILE', Soft: 1024, Hard: 65536 }]) },
  'LogConfig json-file with options': (t, hc) => { t.same(hc.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '5' } }, 'max-file injected next to the body\'s max-size') },
  'resources within the caps': (t, hc) => { t.same([hc.Memory, hc.NanoCpus, hc.PidsLimit], [2 * GiB, 2e9, 100]) },
  'harmless extras: Init, Tmpfs, ShmSize, User root, Entrypoint': (t, hc) => { t.same([hc.Init, hc.ShmSize, hc.ReadonlyRootfs], [true, 1 << 26, true]) },
  'unknownFields: drop (default) drops an unknown key': () => {},
  'Runtime runc': (t, hc) => { t.equal(hc.Runtime, 'runc') },
  'Tmpfs size=64m,mode=1777,exec,nosuid,nodev and no options': (t, hc) => { t.same(hc.Tmpfs, { '/run': 'size=64m,mode=1777,exec,nosuid,nodev', '/cache': '' }) }
}

/** A command for bodies without one (the test image has no default Cmd). */
function withCmd (body: unknown): unknown {
  if (typeof body === 'string') return body.replace('"Cmd":null', '"Cmd":["true"]')
  const obj = body as Record<string, unknown>
  return 'Cmd' in obj ? obj : { ...obj, Cmd: ['true'] }
}

const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  const principal = `e2e-${label.value}`
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('allowed bodies', async t => {
    const { file } = writeConfig(t, { policy: TABLE_POLICY })
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
    const scopes = ['containers:read', 'containers:write']
    const token = gw.token({ sub: principal, scope: scopes.join(' ') })
    const ctx: PolicyContext = { principal, scopes, ownerLabel: 'docker-gateway.owner', ownershipEnabled: true }
    const inspect = async (id: string) => (await docker(`/containers/${id as string}/json`)).body

    await t.test('allowed table bodies are created with the injected defaults and the owner label', async t => {
      const prepared = Object.entries(FROM_TABLE).map(([name, check], i) => {
        const c = cases.find(c => c.name === name)
        if (c === undefined || c.expect !== 'allow' || c.config !== undefined || c.ctx !== undefined) {
          t.fail(`the table no longer has the allowed default-policy case "${name}"`)
          return undefined
        }
        const body = withLabels(withCmd(c.body), { [label.key]: label.value, 'dgw.case': String(i) })
        const raw = typeof body === 'string' ? body : JSON.stringify(body)
        const want = vetCreate(raw, tableConfig, ctx)
        if (!want.allow) {
          t.fail(`${name}: the labelled body is denied by the policy: ${want.message}`)
          return undefined
        }
        return { name, check, i, raw, sent: want.body.HostConfig as Record<string, number> }
      })
      // Created concurrently (the daemon's vfs driver copies a rootfs per container), judged in order.
      const results = await Promise.all(prepared.map(async p => {
        if (p === undefined) return undefined
        const res = await send(`${gw.url}/containers/create`, token, 'POST', p.raw)
        const listed = await containersLabelled(`${label.key}=${label.value}`, `dgw.case=${p.i}`)
        const info = res.status === 201 ? await inspect(res.json.Id) : undefined
        return { ...p, res, listed, info }
      }))
      for (const r of results) {
        if (r === undefined) continue
        const { name, res, listed, info, sent, check } = r
        t.equal(res.status, 201, `${name}: ${res.text}`)
        t.same(listed, [res.json?.Id], `${name}: on the daemon`)
        if (info === undefined) continue
        t.equal(info.Config.Labels['docker-gateway.owner'], principal, `${name}: owner label`)
        t.same(
          [info.HostConfig.Memory, info.HostConfig.NanoCpus, info.HostConfig.PidsLimit],
          [sent.Memory, sent.NanoCpus, sent.PidsLimit],
          `${name}: Memory, NanoCpus, PidsLimit as vetted`)
        for (const key of ['Memory', 'NanoCpus', 'PidsLimit'] as const) {
          t.ok(info.HostConfig[key] > 0, `${name}: ${key} is set (never unlimited)`)
        }
        check(t, info.HostConfig)
      }
    })

    await t.test('a body with no resources gets exactly the configured defaults', async t => {
      const res = await send(`${gw.url}/containers/create`, token, 'POST', { Image: d.image, Cmd: ['true'], Labels: label.labels })
      t.equal(res.status, 201, res.text)
      const info = await inspect(res.json.Id)
      t.same(
        { Memory: info.HostConfig.Memory, NanoCpus: info.HostConfig.NanoCpus, PidsLimit: info.HostConfig.PidsLimit },
        { Memory: resources.defaultMemory, NanoCpus: resources.defaultNanoCpus, PidsLimit: resources.defaultPidsLimit })
      t.same([resources.defaultMemory, resources.defaultNanoCpus, resources.defaultPidsLimit], [GiB, 1e9, 1024], 'the documented defaults')
      t.equal(info.Config.Labels['docker-gateway.owner'], principal)
    })

    await t.test('docker-py CPURealtimePeriod is judged as CpuRealtimePeriod', async t => {
      // docker-py 7.1.0's own bytes, minus the CapAdd the table policy would name first.
      const raw = PY_CREATE.replace('"CapAdd": ["NET_ADMIN"], ', '').replace('"Labels": {', `"Labels": {"${label.key}": "${label.value}", "dgw.case": "py", `)
      t.not(raw, PY_CREATE)
      const res = await send(`${gw.url}/containers/create`, token, 'POST', raw)
      t.equal(res.status, 403)
      t.same(res.json, { message: 'policy denied: HostConfig.CpuRealtimePeriod=1000 is not allowed (real-time CPU scheduling) (rule: cpu-realtime)' })
      t.same(await containersLabelled(`${label.key}=${label.value}`, 'dgw.case=py'), [], 'no container')
    })

    await t.test('case variants and folded keys land under the daemon\'s field names', async t => {
      // Go's encoding/json matches "memory", "NANOCPUS", "CPUShares" and "\u017fhmSize" (long s) to
      // Memory, NanoCpus, CpuShares and ShmSize; the gateway renames them before judging, so the
      // caps apply and the injected defaults do not override what the body set.
      const raw = `{"image":"${d.image}","cmd":["true"],"labels":{"${label.key}":"${label.value}","dgw.case":"fold"},` +
        '"hostconfig":{"memory":268435456,"NANOCPUS":500000000,"pidsLIMIT":64,"CPUShares":512,"\\u017fhmSize":33554432,' +
        '"CPURealtimePeriod":0,"CPURealtimeRuntime":0,"privileged":false}}'
      const res = await send(`${gw.url}/containers/create`, token, 'POST', raw)
      t.equal(res.status, 201, res.text)
      if (res.status !== 201) return
      const info = await inspect(res.json.Id)
      t.same(
        [info.HostConfig.Memory, info.HostConfig.NanoCpus, info.HostConfig.PidsLimit, info.HostConfig.CpuShares, info.HostConfig.ShmSize],
        [268435456, 500000000, 64, 512, 33554432])
      t.equal(info.Config.Labels['dgw.case'], 'fold')
      t.equal(info.Config.Labels['docker-gateway.owner'], principal)
      t.same(info.Config.Cmd, ['true'])

      const over = await send(`${gw.url}/containers/create`, token, 'POST', raw.replace('"memory":268435456', `"memory":${16 * GiB}`).replace('"fold"', '"fold-over"'))
      t.equal(over.status, 403)
      t.match(over.json?.message, /^policy denied: HostConfig\.Memory=17179869184 .* \(rule: resources\)$/)
      t.same(await containersLabelled(`${label.key}=${label.value}`, 'dgw.case=fold-over'), [], 'no container')
    })
  })
}
