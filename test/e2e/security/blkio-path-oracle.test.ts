import crypto from 'node:crypto'
import { existsSync } from 'node:fs'
import t from 'tap'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startGateway } from '../../helpers/gateway'
import { send } from '../../helpers/policy/client'

/**
 * Issue 10 finding 5: BlkioWeightDevice and BlkioDevice{Read,Write}{Bps,IOps}
 * were forwarded, and dockerd stat()s each Path on the host as root when the
 * container starts; its error told whether the file exists (/etc/shadow
 * did). They are now denied (the decision table, rule field-denied), on
 * create and on POST /containers/{id}/update. Asserted: a path that exists
 * and one that does not get the very same answer (status and body, once the
 * echoed path is blanked out), no container is created, and an update
 * leaves the container's HostConfig as it was.
 */
const FIELDS = ['BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps'] as const
const entry = (field: string, path: string): Record<string, unknown> => field === 'BlkioWeightDevice' ? { Path: path, Weight: 100 } : { Path: path, Rate: 1048576 }

const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })
  const scope = 'containers:read containers:write'
  const existing = '/etc/shadow'
  const missing = `/etc/dgw-missing-${crypto.randomBytes(6).toString('hex')}`

  t.test('the two paths really differ on the host', async t => {
    t.ok(existsSync(existing), `${existing} exists`)
    t.notOk(existsSync(missing), `${missing} does not`)
  })

  /** The answer with the path blanked out, so the two can be compared byte for byte. */
  const blank = (text: string, path: string): string => text.split(JSON.stringify(path).slice(1, -1)).join('<PATH>')

  t.test('create: an existing and a missing path get the same 403 and no container', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'blkio', scope })
    for (const field of FIELDS) {
      const answers: Array<{ status: number, text: string }> = []
      for (const path of [existing, missing]) {
        const marker = `${field}-${path === existing ? 'existing' : 'missing'}`
        const res = await send(`${gw.url}/containers/create`, token, 'POST', {
          Image: d.image, Cmd: ['true'], Labels: { ...label.labels, 'dgw.case': marker }, HostConfig: { [field]: [entry(field, path)] }
        })
        answers.push({ status: res.status, text: blank(res.text, path) })
        const left = await docker<Array<{ Id: string }>>('/containers/json', { query: { all: true, filters: { label: [label.filter, `dgw.case=${marker}`] } } })
        t.same(left.body, [], `${marker}: no container on the daemon`)
      }
      t.equal(answers[0]!.status, 403, `${field}: 403`)
      t.same(answers[0], answers[1], `${field}: the same answer for both paths: ${answers[0]!.text}`)
      t.match(answers[0]!.text, `HostConfig.${field}=`, `${field}: names the field`)
    }
  })

  t.test('update: an existing and a missing path get the same 403, and HostConfig is unchanged', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'blkio', scope })
    const created = await send(`${gw.url}/containers/create`, token, 'POST', { Image: d.image, Cmd: ['sleep', '60'], Labels: label.labels })
    t.equal(created.status, 201, created.text)
    const id = created.json.Id as string
    t.equal((await send(`${gw.url}/containers/${id}/start`, token, 'POST')).status, 204)
    const before = (await docker(`/containers/${id}/json`)).body.HostConfig
    for (const field of FIELDS) {
      const answers: Array<{ status: number, text: string }> = []
      for (const path of [existing, missing]) {
        const res = await send(`${gw.url}/containers/${id}/update`, token, 'POST', { [field]: [entry(field, path)] })
        answers.push({ status: res.status, text: blank(res.text, path) })
      }
      t.equal(answers[0]!.status, 403, `${field}: 403`)
      t.same(answers[0], answers[1], `${field}: the same answer for both paths: ${answers[0]!.text}`)
    }
    const after = (await docker(`/containers/${id}/json`)).body.HostConfig
    t.same(after, before, 'HostConfig is unchanged')
    t.same(FIELDS.map(f => after[f] ?? []), FIELDS.map(() => []), 'no Blkio device entry on the container')
  })
}
