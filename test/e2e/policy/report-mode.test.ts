import t from 'tap'
import { defaultPolicyConfig } from '../../../src/policy/config'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { waitFor } from '../../helpers/wait'
import { startWatchedGateway, type WatchedGateway } from '../../helpers/security/gateway-app'
import { containersLabelled, send, writeConfig } from '../../helpers/policy/client'

/**
 * Report-only policy (issue 13 item 6) on the real app and the real daemon:
 * with `policy.mode: report` a body the policy would deny reaches the daemon
 * as sent, owner label stamped, and its audit line says would-deny with the
 * rules; ownership (a forged owner label, a join of another principal's
 * container) and unreadable bodies still refuse. `reportRules` does the
 * same for the named rules only. What is asserted is what the daemon holds.
 */
const OWNER = 'docker-gateway.owner'

const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  const gateway = async (t: Parameters<typeof writeConfig>[0], policy: unknown): Promise<WatchedGateway> => {
    const { file } = writeConfig(t, { policy })
    return await startWatchedGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
  }
  /** Send as `who`, and return the answer with the request's audit line. */
  const call = async (gw: WatchedGateway, who: string, path: string, body?: unknown) => {
    const before = gw.audit().length
    const res = await send(gw.url + path, gw.token(who), 'POST', body)
    await waitFor(() => gw.audit().length > before, 5000)
    return { ...res, audit: gw.audit()[before] as Record<string, any> }
  }
  const create = (marker: string, extra: Record<string, unknown>): Record<string, unknown> =>
    ({ Image: d.image, Cmd: ['sleep', '300'], ...extra, Labels: { ...label.labels, 'dgw.case': marker, ...(extra.Labels as object | undefined) } })
  const marked = async (marker: string): Promise<string[]> => await containersLabelled(label.filter, `dgw.case=${marker}`)
  const inspect = async (id: string): Promise<any> => (await docker(`/containers/${id}/json`)).body

  t.test('mode report: a privileged create reaches the daemon as sent, audited as would-deny', async t => {
    const gw = await gateway(t, { mode: 'report' })
    const res = await call(gw, 'alice', '/containers/create', create('report-privileged', { HostConfig: { Privileged: true } }))
    t.equal(res.status, 201, res.text)
    t.same(await marked('report-privileged'), [res.json.Id], 'the container exists')
    const c = await inspect(res.json.Id)
    t.equal(c.HostConfig.Privileged, true, 'the daemon got Privileged: true')
    t.equal(c.Config.Labels[OWNER], 'alice', 'the owner label is stamped')
    t.equal(c.HostConfig.CgroupnsMode, 'private', 'the host-dependent default is still injected')
    t.equal(c.HostConfig.Memory, defaultPolicyConfig.resources.defaultMemory, 'resource defaults too')
    t.match(res.audit, { principal: 'alice', route: 'POST /containers/create', decision: 'would-deny', status: 201 })
    t.same(res.audit.wouldDeny, [{ rule: 'privileged', field: 'HostConfig.Privileged' }], 'the rule and field, never the value')
    t.equal(res.audit.reason, undefined)
  })

  t.test('mode enforce: the same create is a 403 and nothing is created', async t => {
    const gw = await gateway(t, {})
    const res = await call(gw, 'alice', '/containers/create', create('enforce-privileged', { HostConfig: { Privileged: true } }))
    t.equal(res.status, 403)
    t.match(res.json.message, /\(rule: privileged\)$/)
    t.same(await marked('enforce-privileged'), [])
    t.match(res.audit, { decision: 'deny', reason: 'policy: privileged', status: 403 })
    t.equal(res.audit.wouldDeny, undefined)
  })

  t.test('mode report: ownership and unreadable bodies still refuse', async t => {
    const gw = await gateway(t, { mode: 'report' })

    const forged = await call(gw, 'alice', '/containers/create', create('report-forged', { Labels: { [OWNER]: 'bob' }, HostConfig: { Privileged: true } }))
    t.equal(forged.status, 403, 'a forged owner label')
    t.match(forged.json.message, /\(rule: owner-label\)$/)
    t.same(await marked('report-forged'), [])
    t.match(forged.audit, { decision: 'deny', reason: 'policy: owner-label', status: 403 })

    const bobs = await call(gw, 'bob', '/containers/create', create('report-bob', {}))
    t.equal(bobs.status, 201, bobs.text)
    for (const [name, hostConfig] of [
      ['VolumesFrom', { VolumesFrom: [bobs.json.Id] }],
      ['PidMode container:', { PidMode: `container:${bobs.json.Id as string}` }]
    ] as const) {
      const join = await call(gw, 'alice', '/containers/create', create('report-join', { HostConfig: { Privileged: true, ...hostConfig } }))
      t.equal(join.status, 403, `${name}: a join of another principal's container`)
      t.match(join.json.message, /which you do not own \(rule: container-ref\)$/)
      t.match(join.audit, { decision: 'deny', reason: /^policy: container-ref /, status: 403 }, `${name}: the audit line is a deny`)
      t.same(join.audit.wouldDeny, [{ rule: 'privileged', field: 'HostConfig.Privileged' }], `${name}: and still lists what report mode let through`)
    }
    t.same(await marked('report-join'), [])

    const malformed = await call(gw, 'alice', '/containers/create', '{"Image":')
    t.equal(malformed.status, 400, 'malformed JSON')
    const duplicate = await call(gw, 'alice', '/containers/create', `{"Image":"${d.image}","HostConfig":{"Privileged":false,"Privileged":true},"Labels":${JSON.stringify({ ...label.labels, 'dgw.case': 'report-dup' })}}`)
    t.equal(duplicate.status, 400, 'duplicate keys')
    t.same(await marked('report-dup'), [])
    t.match(duplicate.audit, { decision: 'deny', status: 400 })
  })

  t.test('mode report: exec and update bodies go through too', async t => {
    const gw = await gateway(t, { mode: 'report' })
    const created = await call(gw, 'alice', '/containers/create', create('report-exec', {}))
    t.equal(created.status, 201, created.text)
    const id = created.json.Id as string
    t.equal((await call(gw, 'alice', `/containers/${id}/start`)).status, 204)
    const exec = await call(gw, 'alice', `/containers/${id}/exec`, { Cmd: ['id'], Privileged: true })
    t.equal(exec.status, 201, exec.text)
    t.equal((await docker(`/exec/${exec.json.Id as string}/json`)).body.ProcessConfig.privileged, true, 'the daemon got a privileged exec')
    t.match(exec.audit, { decision: 'would-deny', wouldDeny: [{ rule: 'exec-privileged', field: 'Privileged' }] })

    const update = await call(gw, 'alice', `/containers/${id}/update`, { PidsLimit: -1 })
    t.equal(update.status, 200, update.text)
    const pids = (await inspect(id)).HostConfig.PidsLimit
    t.ok(pids === 0 || pids === -1 || pids === null, `unlimited on the daemon (${String(pids)})`)
    t.match(update.audit, { decision: 'would-deny', wouldDeny: [{ rule: 'resources' }] })
  })

  t.test('reportRules: the named rule reports, the others enforce', async t => {
    const gw = await gateway(t, { imageAllowList: ['registry.internal/*'], reportRules: ['image'] })
    const res = await call(gw, 'alice', '/containers/create', create('rule-image', {}))
    t.equal(res.status, 201, res.text)
    t.same(await marked('rule-image'), [res.json.Id])
    t.match(res.audit, { decision: 'would-deny', wouldDeny: [{ rule: 'image', field: 'Image' }] })

    const privileged = await call(gw, 'alice', '/containers/create', create('rule-privileged', { HostConfig: { Privileged: true } }))
    t.equal(privileged.status, 403)
    t.match(privileged.json.message, /\(rule: privileged\)$/)
    t.same(await marked('rule-privileged'), [])
  })

  t.test('/policy/check says what report mode does', async t => {
    const gw = await gateway(t, { mode: 'report' })
    const check = await call(gw, 'alice', '/policy/check', create('check', { HostConfig: { Privileged: true } }))
    t.equal(check.status, 200)
    t.match(check.json, { allowed: true, decision: 'would-deny', wouldDeny: [{ rule: 'privileged', field: 'HostConfig.Privileged' }] })
    t.equal(check.json.body.HostConfig.Privileged, true, 'the body that would be forwarded')
    t.equal(check.json.body.Labels[OWNER], 'alice')
    const forged = await call(gw, 'alice', '/policy/check', create('check', { Labels: { [OWNER]: 'bob' } }))
    t.match(forged.json, { allowed: false, decision: 'deny', rule: 'owner-label' })
    t.same(await marked('check'), [], 'nothing was created')
  })
}
