import t from 'tap'
import { request } from 'undici'
import { cleanupLabel, docker, testLabel, containersLabelled } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startGateway } from '../../helpers/gateway'

/**
 * Issue 10 "every forwarded value is an explicit decision", on the real
 * gateway and a real dockerd: a denied field with a non-zero value is a 403
 * naming the field, and the daemon ends up with no container; the same body
 * with the field's zero value (what the docker CLI sends) creates one whose
 * HostConfig has the field unset. Finding 5: BlkioDevice*Bps paths were
 * forwarded, and dockerd stat()ed them on the host as root at start.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  const cases = [
    { field: 'BlkioDeviceReadBps', denied: [{ Path: '/etc/shadow', Rate: 1048576 }], zero: [] },
    { field: 'BlkioWeightDevice', denied: [{ Path: '/etc/shadow', Weight: 100 }], zero: [] },
    { field: 'StorageOpt', denied: { size: '100G' }, zero: {} }
  ] as const

  t.test('a denied field is refused before the daemon sees it; its zero value passes', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'field-decisions', scope: 'containers:read containers:write' })
    const create = async (hostConfig: Record<string, unknown>, marker: string) => {
      const res = await request(`${gw.url}/containers/create`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ Image: d.image, Cmd: ['true'], Labels: { ...label.labels, 'dgw.case': marker }, HostConfig: hostConfig })
      })
      return { status: res.statusCode, body: await res.body.json() as { message?: string, Id?: string } }
    }
    const onDaemon = async (marker: string): Promise<string[]> => await containersLabelled(label.filter, `dgw.case=${marker}`)

    for (const c of cases) {
      const deniedMarker = `${c.field}-denied`
      const refused = await create({ [c.field]: c.denied }, deniedMarker)
      t.equal(refused.status, 403, `${c.field} non-zero: 403`)
      t.match(refused.body.message, `HostConfig.${c.field}=`, `${c.field}: the message names the field`)
      t.match(refused.body.message, '(rule: field-denied)', `${c.field}: and the rule`)
      t.same(await onDaemon(deniedMarker), [], `${c.field} non-zero: no container on the daemon`)

      const zeroMarker = `${c.field}-zero`
      const made = await create({ [c.field]: c.zero }, zeroMarker)
      t.equal(made.status, 201, `${c.field} zero value: created`)
      t.same(await onDaemon(zeroMarker), [made.body.Id], `${c.field} zero value: exactly that container on the daemon`)
      const inspect = await docker<{ HostConfig: Record<string, unknown> }>(`/containers/${made.body.Id}/json`)
      const stored = inspect.body.HostConfig[c.field]
      t.ok(stored === null || stored === undefined || (Array.isArray(stored) ? stored.length === 0 : Object.keys(stored as object).length === 0),
        `${c.field} zero value: inspect shows it unset (${JSON.stringify(stored)})`)
    }
  })
}
