import t from 'tap'
import { isRootUser, vetExec } from '../../../src/policy/exec'
import { resolvePolicyConfig, type PolicyConfig } from '../../../src/policy/config'
import type { PolicyContext } from '../../../src/policy/types'
import { DOCKERODE_EXEC, PY_EXEC } from '../../helpers/policy/fixtures'

/** Exec bodies: privileged processes and root users, in the spellings the daemon accepts. */

const config = resolvePolicyConfig({ overrides: [{ scopes: ['admin'], policy: { exec: { allowPrivileged: true, allowRootUser: true } } }] })
const alice: PolicyContext = { principal: 'alice', scopes: ['containers:write'], ownerLabel: 'docker-gateway.owner', ownershipEnabled: true }
const admin: PolicyContext = { ...alice, scopes: ['admin'] }

const cases: Array<{ name: string, body: unknown, expect: 'allow' | [400 | 403, string], ctx?: PolicyContext, config?: PolicyConfig }> = [
  { name: 'docker-py exec as nobody (Container is not an API field)', body: PY_EXEC, expect: 'allow' },
  { name: 'dockerode exec', body: DOCKERODE_EXEC, expect: 'allow' },
  { name: 'the container\'s own user', body: { Cmd: ['id'], User: '' }, expect: 'allow' },
  { name: 'a numeric non-root user with the root group', body: { Cmd: ['id'], User: '1000:0' }, expect: 'allow' },
  { name: 'Privileged', body: { Cmd: ['sh'], Privileged: true }, expect: [403, 'exec-privileged'] },
  { name: '"privileged" in lower case', body: { Cmd: ['sh'], privileged: true }, expect: [403, 'exec-privileged'] },
  { name: 'Privileged for admin', body: { Cmd: ['sh'], Privileged: true }, expect: 'allow', ctx: admin },
  { name: 'User root', body: { Cmd: ['sh'], User: 'root' }, expect: [403, 'exec-root-user'] },
  { name: 'User 0', body: { Cmd: ['sh'], User: '0' }, expect: [403, 'exec-root-user'] },
  { name: 'User 0:0', body: { Cmd: ['sh'], User: '0:0' }, expect: [403, 'exec-root-user'] },
  { name: 'User root:root', body: { Cmd: ['sh'], User: 'root:root' }, expect: [403, 'exec-root-user'] },
  { name: 'User 0:1000', body: { Cmd: ['sh'], User: '0:1000' }, expect: [403, 'exec-root-user'] },
  { name: 'User 00 (Atoi)', body: { Cmd: ['sh'], User: '00' }, expect: [403, 'exec-root-user'] },
  { name: 'User +0', body: { Cmd: ['sh'], User: '+0' }, expect: [403, 'exec-root-user'] },
  { name: 'User -0', body: { Cmd: ['sh'], User: '-0' }, expect: [403, 'exec-root-user'] },
  { name: 'User ":" (empty user part is uid 0)', body: { Cmd: ['sh'], User: ':' }, expect: [403, 'exec-root-user'] },
  { name: 'User ":1000"', body: { Cmd: ['sh'], User: ':1000' }, expect: [403, 'exec-root-user'] },
  { name: '"uſer": "root" (long s)', body: { Cmd: ['sh'], 'uſer': 'root' }, expect: [403, 'exec-root-user'] },
  { name: 'User root for admin', body: { Cmd: ['sh'], User: 'root' }, expect: 'allow', ctx: admin },
  { name: 'duplicate User', body: '{"Cmd":["sh"],"User":"nobody","User":"root"}', expect: [400, 'json-duplicate-key'] },
  { name: 'User and user', body: '{"Cmd":["sh"],"User":"nobody","user":"root"}', expect: [400, 'json-key-case'] },
  { name: 'Privileged as a string', body: { Cmd: ['sh'], Privileged: 'true' }, expect: [400, 'json-type'] },
  { name: 'no Cmd', body: { User: 'nobody' }, expect: [400, 'exec-cmd-required'] },
  { name: 'an empty Cmd', body: { Cmd: [] }, expect: [400, 'exec-cmd-required'] },
  { name: 'an array body', body: [], expect: [400, 'body-shape'] },
  { name: 'unknownFields: reject', body: PY_EXEC, expect: [400, 'unknown-field'], config: resolvePolicyConfig({ unknownFields: 'reject' }) }
]

t.test('exec decision table', async t => {
  for (const c of cases) {
    const raw = typeof c.body === 'string' ? c.body : JSON.stringify(c.body)
    const d = vetExec(raw, c.config ?? config, c.ctx ?? alice)
    if (c.expect === 'allow') {
      t.ok(d.allow, `${c.name}${d.allow ? '' : `: ${d.message}`}`)
    } else {
      t.same(d.allow ? 'allow' : [d.status, d.rule], c.expect, `${c.name}${d.allow ? '' : `: ${d.message}`}`)
    }
  }
})

t.test('the forwarded exec body is the vetted one', async t => {
  const d = vetExec(PY_EXEC, config, alice)
  if (!d.allow) return t.fail(d.message)
  t.same(d.body, { User: 'nobody', Privileged: false, Tty: false, AttachStdin: false, AttachStdout: true, AttachStderr: true, Cmd: ['ls', '-l'] })
  t.same(d.dropped, ['Container'])
})

t.test('denials name the field and rule', async t => {
  const d = vetExec(JSON.stringify({ Cmd: ['sh'], Privileged: true, User: '0' }), config, alice)
  if (d.allow) return t.fail('allowed')
  t.equal(d.message, 'policy denied: Privileged=true is not allowed for exec (it grants every capability) (rule: exec-privileged)')
  t.same(d.violations?.map(v => v.field), ['Privileged', 'User'])
})

t.test('isRootUser', async t => {
  for (const u of ['root', '0', '0:0', 'root:root', '0:1000', '00', '+0', '-0', ':', ':0', ':1000']) t.ok(isRootUser(u), u)
  for (const u of ['', 'nobody', '1000', '1000:0', 'nobody:root', 'ROOT', 'root2', '10']) t.notOk(isRootUser(u), u)
})
