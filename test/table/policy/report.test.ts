import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { vetCreate } from '../../../src/policy/create'
import { vetExec } from '../../../src/policy/exec'
import { vetUpdate } from '../../../src/policy/update'
import { resolvePolicyConfig, type PolicyConfig } from '../../../src/policy/config'
import { NEVER_REPORTED_RULES, REPORTABLE_RULES, judgeViolations } from '../../../src/policy/report'
import { alice, cases, hc, IMAGE, tableConfig } from '../../helpers/policy/cases'

/**
 * Report-only policy (issue 13 item 6), on the policy module: what a body
 * the policy would deny becomes in `mode: report` or under `reportRules`.
 */

const OWNER = 'docker-gateway.owner'
const report = (config: PolicyConfig): PolicyConfig => ({ ...config, mode: 'report' })
const rulesOf = (d: { wouldDeny?: Array<{ rule: string }> }): string[] => [...new Set((d.wouldDeny ?? []).map(v => v.rule))]

t.test('every rule a violation can name is classified: reportable, or never (ownership)', async t => {
  const dir = path.join(__dirname, '..', '..', '..', 'src', 'policy')
  const found = new Set<string>()
  for (const file of fs.readdirSync(dir).filter(f => f.endsWith('.ts'))) {
    for (const m of fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/rule: '([a-z0-9-]+)'/g)) found.add(m[1] as string)
  }
  found.delete('body-shape') // go-json.ts: a 400, never a violation
  t.same([...found].sort(), [...REPORTABLE_RULES, ...NEVER_REPORTED_RULES].sort(), 'src/policy names exactly the classified rules')
  t.same(REPORTABLE_RULES.filter(r => NEVER_REPORTED_RULES.includes(r)), [], 'no rule is in both lists')
})

t.test('the create table in report mode', async t => {
  for (const c of cases) {
    const raw = typeof c.body === 'string' ? c.body : JSON.stringify(c.body)
    const ctx = c.ctx ?? alice
    const enforced = vetCreate(raw, c.config ?? tableConfig, ctx)
    const d = vetCreate(raw, report(c.config ?? tableConfig), ctx)
    if (c.expect === 'allow') {
      // Same body as in enforce mode, defaults and all: switching modes changes nothing for allowed bodies.
      t.same(d, enforced, `${c.name}: forwarded as in enforce mode`)
      continue
    }
    const [status, rule] = c.expect
    if (status === 400 || NEVER_REPORTED_RULES.includes(rule)) {
      if (d.allow) {
        t.fail(`${c.name}: ${status} ${rule} must refuse in report mode too`)
        continue
      }
      t.same({ status: d.status, rule: d.rule }, { status, rule }, `${c.name}: still refused (${d.message})`)
      continue
    }
    if (!d.allow) {
      t.fail(`${c.name}: expected would-deny ${rule}, got ${d.status} ${d.message}`)
      continue
    }
    t.ok(rulesOf(d).includes(rule), `${c.name}: would-deny names ${rule} (${rulesOf(d).join(', ')})`)
    if (ctx.ownershipEnabled) t.equal((d.body.Labels as Record<string, string>)[OWNER], ctx.principal, `${c.name}: owner label stamped`)
    // The forwarded body still breaks the same rules: what the caller sent is what the daemon gets.
    const again = vetCreate(JSON.stringify(d.body), report(c.config ?? tableConfig), { ...ctx, ownershipEnabled: false })
    if (!again.allow) {
      t.fail(`${c.name}: the forwarded body is refused when vetted again: ${again.message}`)
      continue
    }
    t.same(again.body, d.body, `${c.name}: the forwarded body is a fixed point`)
    t.same(rulesOf(again), rulesOf(d), `${c.name}: and breaks the same rules`)
  }
})

t.test('a privileged create in report mode: forwarded as sent, with the defaults and the owner label', async t => {
  const d = vetCreate(JSON.stringify({ Image: IMAGE, Cmd: ['id'], HostConfig: { Privileged: true, CapAdd: ['SYS_ADMIN'] } }), report(tableConfig), alice)
  if (!d.allow) return t.fail(d.message)
  t.same(d.wouldDeny, [
    { rule: 'privileged', field: 'HostConfig.Privileged', message: 'HostConfig.Privileged=true is not allowed (all capabilities and host devices, no confinement)' },
    { rule: 'capabilities', field: 'HostConfig.CapAdd[0]', message: d.wouldDeny?.[1]?.message }
  ])
  const h = d.body.HostConfig as Record<string, unknown>
  t.equal(h.Privileged, true)
  t.same(h.CapAdd, ['SYS_ADMIN'])
  t.equal(h.CgroupnsMode, 'private', 'host-dependent defaults still made explicit')
  t.equal(h.Memory, tableConfig.resources.defaultMemory, 'resource defaults still injected')
  t.same(d.body.Labels, { [OWNER]: 'alice' })
})

t.test('report mode keeps a value the caller sent where enforce would inject a default over it', async t => {
  const d = vetCreate(JSON.stringify(hc({ PidsLimit: -1, Memory: 0 })), report(tableConfig), alice)
  if (!d.allow) return t.fail(d.message)
  t.same(rulesOf(d), ['resources'])
  const h = d.body.HostConfig as Record<string, unknown>
  t.equal(h.PidsLimit, -1, 'unlimited, as sent')
  t.equal(h.Memory, tableConfig.resources.defaultMemory, 'an unset value still gets its default')
  t.equal(h.NanoCpus, tableConfig.resources.defaultNanoCpus)
})

t.test('ownership rules refuse in report mode, and say which report-only rules were broken too', async t => {
  const forged = vetCreate(JSON.stringify({ Image: IMAGE, Labels: { [OWNER]: 'bob' }, HostConfig: { Privileged: true } }), report(tableConfig), alice)
  if (forged.allow) return t.fail('a forged owner label went through')
  t.equal(forged.status, 403)
  t.equal(forged.rule, 'owner-label')
  t.same(forged.violations?.map(v => v.rule), ['owner-label'])
  t.same(forged.wouldDeny?.map(v => v.rule), ['privileged'])

  const volumeLabel = vetCreate(JSON.stringify(hc({ Mounts: [{ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { Labels: { [OWNER]: 'bob' } } }] })), report(tableConfig), alice)
  t.match(volumeLabel, { allow: false, status: 403, rule: 'volume-ref' })
  const emptyRef = vetCreate(JSON.stringify(hc({ VolumesFrom: [''] })), report(tableConfig), alice)
  t.match(emptyRef, { allow: false, status: 403, rule: 'container-ref' })

  const joins = vetCreate(JSON.stringify(hc({ PidMode: 'container:other', Privileged: true })), report(tableConfig), alice)
  if (!joins.allow) return t.fail(joins.message)
  t.same(joins.containerRefs.map(r => r.ref), ['other'], 'a container it joins is still returned for the ownership check')
})

t.test('bodies the gateway cannot read refuse in report mode', async t => {
  const cfg = report(resolvePolicyConfig({ unknownFields: 'reject' }))
  t.match(vetCreate('{"Image":', cfg, alice), { allow: false, status: 400, rule: 'json-syntax' })
  t.match(vetCreate('{"Image":"x","Image":"y"}', cfg, alice), { allow: false, status: 400, rule: 'json-duplicate-key' })
  t.match(vetCreate(JSON.stringify({ Image: IMAGE, Privileged: true }), cfg, alice), { allow: false, status: 400, rule: 'legacy-top-level-hostconfig' })
  t.match(vetCreate(JSON.stringify({ Image: IMAGE, Foo: 1 }), cfg, alice), { allow: false, status: 400, rule: 'unknown-field' })
})

t.test('reportRules: only the named rules report, the others enforce', async t => {
  const cfg = resolvePolicyConfig({ imageAllowList: ['registry.internal/*'], reportRules: ['image'] })
  const unlisted = vetCreate(JSON.stringify({ Image: 'nginx:1.27' }), cfg, alice)
  if (!unlisted.allow) return t.fail(unlisted.message)
  t.same(rulesOf(unlisted), ['image'])
  t.equal(unlisted.body.Image, 'nginx:1.27')

  const both = vetCreate(JSON.stringify({ Image: 'nginx:1.27', HostConfig: { Privileged: true } }), cfg, alice)
  t.match(both, { allow: false, status: 403, rule: 'privileged', wouldDeny: [{ rule: 'image' }] })

  const clean = vetCreate(JSON.stringify({ Image: 'registry.internal/app' }), cfg, alice)
  t.match(clean, { allow: true })
  t.notOk('wouldDeny' in clean, 'no wouldDeny on a body nothing denies')
})

t.test('mode per principal through overrides', async t => {
  const cfg = resolvePolicyConfig({ overrides: [{ principals: ['ci'], policy: { mode: 'report' } }] })
  const body = JSON.stringify(hc({ Privileged: true }))
  t.match(vetCreate(body, cfg, alice), { allow: false, rule: 'privileged' }, 'alice: enforced')
  t.match(vetCreate(body, cfg, { ...alice, principal: 'ci' }), { allow: true, wouldDeny: [{ rule: 'privileged' }] }, 'ci: reported')
})

t.test('exec and update in report mode', async t => {
  const cfg = report(tableConfig)
  const exec = vetExec(JSON.stringify({ Cmd: ['id'], Privileged: true, User: 'root' }), cfg, alice)
  if (!exec.allow) return t.fail(exec.message)
  t.same(rulesOf(exec), ['exec-privileged', 'exec-root-user'])
  t.match(exec.body, { Privileged: true, User: 'root' })
  t.match(vetExec(JSON.stringify({ Cmd: [] }), cfg, alice), { allow: false, status: 400, rule: 'exec-cmd-required' })

  const update = vetUpdate(JSON.stringify({ PidsLimit: -1, Memory: 64 * 1024 ** 3 }), cfg, alice)
  if (!update.allow) return t.fail(update.message)
  t.same(rulesOf(update), ['resources'])
  t.match(update.body, { PidsLimit: -1, Memory: 64 * 1024 ** 3 })
  t.match(vetUpdate(JSON.stringify({ PidsLimit: -1 }), tableConfig, alice), { allow: false, rule: 'resources' }, 'enforce mode refuses it')
})

t.test('judgeViolations', async t => {
  const v = (rule: string) => ({ rule, field: 'F', message: 'm' })
  const all = [v('privileged'), v('owner-label'), v('image'), v('a-rule-nobody-classified')]
  const rows: Array<[string, Pick<PolicyConfig, 'mode' | 'reportRules'>, string[], string[]]> = [
    ['enforce', { mode: 'enforce', reportRules: [] }, ['privileged', 'owner-label', 'image', 'a-rule-nobody-classified'], []],
    ['report', { mode: 'report', reportRules: [] }, ['owner-label', 'a-rule-nobody-classified'], ['privileged', 'image']],
    ['reportRules', { mode: 'enforce', reportRules: ['image'] }, ['privileged', 'owner-label', 'a-rule-nobody-classified'], ['image']],
    ['an unclassified name in reportRules enforces', { mode: 'enforce', reportRules: ['a-rule-nobody-classified', 'owner-label'] }, ['privileged', 'owner-label', 'image', 'a-rule-nobody-classified'], []]
  ]
  for (const [name, rules, enforced, wouldDeny] of rows) {
    const j = judgeViolations(all, rules)
    t.same([j.enforced.map(x => x.rule), j.wouldDeny.map(x => x.rule)], [enforced, wouldDeny], name)
  }
})
