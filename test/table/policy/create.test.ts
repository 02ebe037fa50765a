import t from 'tap'
import { vetCreate } from '../../../src/policy/create'
import { resolvePolicyConfig } from '../../../src/policy/config'
import { alice, cases, hc, tableConfig as config } from '../../helpers/policy/cases'

/** The create-body decision table (./cases.ts) run against the policy module. */

t.test('create decision table', async t => {
  t.ok(cases.length >= 45, `${cases.length} cases`)
  for (const c of cases) {
    const raw = typeof c.body === 'string' ? c.body : JSON.stringify(c.body)
    const d = vetCreate(raw, c.config ?? config, c.ctx ?? alice)
    if (c.expect === 'allow') {
      if (!d.allow) {
        t.fail(`${c.name}: expected allow, got ${d.status} ${d.message}`)
        continue
      }
      t.pass(c.name)
      // What we forward passes the policy again, unchanged: nothing was left for the daemon to reinterpret.
      const again = vetCreate(JSON.stringify(d.body), c.config ?? config, { ...(c.ctx ?? alice), ownershipEnabled: false })
      t.same(again.allow ? again.body : again, d.body, `${c.name}: the forwarded body is a fixed point`)
    } else {
      const [status, rule] = c.expect
      if (d.allow) {
        t.fail(`${c.name}: expected ${status} ${rule}, got allow`)
        continue
      }
      t.same({ status: d.status, rule: d.rule }, { status, rule }, `${c.name}: ${d.message}`)
      if (c.field !== undefined) t.equal(d.field, c.field, `${c.name}: field`)
      if (status === 403) t.match(d.message, new RegExp(`^policy denied: .+ \\(rule: ${rule}\\)$`), `${c.name}: message names the rule`)
    }
  }
})

t.test('a denial lists every rule the body breaks', async t => {
  const d = vetCreate(JSON.stringify(hc({ Privileged: true, Binds: ['/:/host'], PidMode: 'host', CapAdd: ['SYS_ADMIN'] })), config, alice)
  if (d.allow) return t.fail('allowed')
  t.equal(d.message, 'policy denied: HostConfig.Privileged=true is not allowed (all capabilities and host devices, no confinement) (rule: privileged)')
  t.same(d.violations?.map(v => v.rule), ['privileged', 'capabilities', 'host-namespace', 'bind-mount'])
  t.match(d.violations?.find(v => v.rule === 'bind-mount')?.message, 'HostConfig.Binds[0]="/:/host" mounts a host path outside the allowed bind prefixes (allowed: /srv/data)')
})

t.test('messages show the cleaned path', async t => {
  const d = vetCreate(JSON.stringify(hc({ Binds: ['/srv/data/../../etc:/x'] })), config, alice)
  if (d.allow) return t.fail('allowed')
  t.match(d.message, '(/etc once cleaned)')
})

t.test('with the default policy, no table body that allows host access passes', async t => {
  const dangerous = cases.filter(c => c.expect !== 'allow' && c.config === undefined && c.ctx === undefined)
  for (const c of dangerous) {
    const raw = typeof c.body === 'string' ? c.body : JSON.stringify(c.body)
    t.notOk(vetCreate(raw, resolvePolicyConfig({}), alice).allow, c.name)
  }
})
