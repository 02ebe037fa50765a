import t from 'tap'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { cases, TABLE_POLICY, tableConfig } from '../../helpers/policy/cases'
import { vetCreate, type PolicyContext } from '../../../src/policy'
import { containersLabelled, send, withLabels, writeConfig } from '../../helpers/policy/client'

/**
 * The create decision table (test/helpers/policy/cases.ts), end to end: every body
 * the table denies under its policy is sent through a gateway configured with
 * that same policy, by a non-admin token, to the real daemon. Each gets the
 * policy's status and Docker-shaped {"message"} naming the field and rule,
 * and the daemon holds no container for it afterwards (checked by a label
 * unique to the body, and by the caller's owner label, directly on the
 * daemon).
 */

/** Escapes the issue names: they must stay in the table, or this run would silently stop covering them. */
const MUST_COVER = [
  '"privileged" (lower case key)',
  '"PRIVILEGED" (upper case key)',
  'Privileged spelled with a \\u escape',
  '"Bind\\u017f" (long s written as a JSON escape) is Binds',
  'NetworkMode with a Kelvin sign written as a JSON escape',
  '"Mas\u212aedPaths" (Kelvin sign) []',
  'duplicate HostConfig (Go merges both)',
  'top-level Privileged (old daemons apply it)',
  'top-level Binds next to a HostConfig',
  'Binds /etc/../ (= /)',
  'Binds //etc',
  'Binds /srv/./data/../../etc',
  'Binds relative source ../etc',
  'Binds /etc:/x:rw,z outside the prefix',
  'Mounts bind of /',
  'PidMode host',
  'NetworkMode host',
  'CapAdd ALL',
  'SecurityOpt seccomp=unconfined',
  'Devices /dev/sda',
  'Sysctls route_localnet',
  'PortBindings host port 80',
  'PublishAllPorts',
  'LogConfig awslogs',
  'MaskedPaths []',
  'Annotations',
  'CgroupParent',
  'OomKillDisable',
  'Memory above the cap',
  'NanoCpus above the cap',
  'PidsLimit above the cap'
]

const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  const principal = `e2e-${label.value}`
  const ownerFilter = `docker-gateway.owner=${principal}`
  t.teardown(async () => {
    await cleanupLabel(label)
    await cleanupLabel(ownerFilter)
  })

  t.test('every body the table denies is denied through the gateway and leaves no container', async t => {
    const { file } = writeConfig(t, { policy: TABLE_POLICY })
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
    const scopes = ['containers:read', 'containers:write']
    const token = gw.token({ sub: principal, scope: scopes.join(' ') })
    const ctx: PolicyContext = { principal, scopes, ownerLabel: 'docker-gateway.owner', ownershipEnabled: true }

    // The table's own policy and caller (no per-case config, not admin), so its decision is the gateway's.
    const denied = cases.filter(c => c.expect !== 'allow' && c.config === undefined && c.ctx === undefined)
    t.ok(denied.length >= 20, `${denied.length} denied bodies`)
    const names = new Set(denied.map(c => c.name))
    for (const name of MUST_COVER) t.ok(names.has(name), `the table still has: ${name}`)

    let unlabelled = 0
    const labelledCases: Array<[number, string]> = []
    for (const [i, c] of denied.entries()) {
      const labelled = withLabels(c.body, { [label.key]: label.value, 'dgw.case': String(i) })
      if (labelled === undefined) unlabelled++
      const body = labelled ?? c.body
      const raw = typeof body === 'string' ? body : JSON.stringify(body)
      // The decision for exactly these bytes; the label must not have changed it.
      const want = vetCreate(raw, tableConfig, ctx)
      if (want.allow) {
        t.fail(`${c.name}: the labelled body is allowed by the policy`)
        continue
      }
      t.same([want.status, want.rule], c.expect, `${c.name}: labelling kept the decision`)

      const res = await send(`${gw.url}/containers/create?name=dgw-denied-${label.value}-${i}`, token, 'POST', raw)
      if (raw === '') {
        // No body at all is refused before the policy (Content-Length: 0).
        t.equal(res.status, 400, c.name)
        t.same(res.json, { message: 'request body is required (a JSON object)' }, `${c.name}: Docker-shaped`)
      } else {
        t.equal(res.status, want.status, `${c.name}: status`)
        t.same(res.json, { message: want.message }, `${c.name}: ${res.text}`)
        if (want.status === 403) {
          t.match(res.json?.message, `(rule: ${want.rule})`, `${c.name}: names the rule`)
          if (c.field !== undefined) t.ok(String(res.json?.message).includes(c.field), `${c.name}: names ${c.field}`)
        }
      }
      if (labelled !== undefined) labelledCases.push([i, c.name])
    }
    t.comment(`${unlabelled} bodies cannot carry a label (not an object, or Labels not an object); the owner label covers them`)
    // One look at the daemon for all of them: which case labels exist at all?
    const onDaemon = await docker<Array<{ Labels: Record<string, string> }>>('/containers/json', { query: { all: true, filters: { label: [label.filter] } } })
    t.equal(onDaemon.status, 200)
    const present = new Set(onDaemon.body.map(c => c.Labels['dgw.case']))
    for (const [i, name] of labelledCases) t.notOk(present.has(String(i)), `${name}: no container on the daemon (label dgw.case=${i})`)
    t.same(await containersLabelled(label.filter), [], 'no container with the test label')
    t.same(await containersLabelled(ownerFilter), [], 'and none owned by the caller')
  })
}
