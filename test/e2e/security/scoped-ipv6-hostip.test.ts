import t from 'tap'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startGateway } from '../../helpers/gateway'
import { freePort } from '../../helpers/net'
import { send } from '../../helpers/policy/client'

/**
 * Issue 10 finding 7: a scoped IPv6 HostIp (`fe80::1%eth0`) in PortBindings
 * made the port check throw (the WHATWG URL parser refuses a zone), and the
 * caller got a 500 "internal error". Now every odd address is a 403 in
 * Docker's shape naming the field and rule `ports`, and the daemon ends up
 * with no container; a plain loopback binding still works (control).
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('odd HostIp values are a 403 naming the field, never a 500, and create nothing', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'hostip', scope: 'containers:read containers:write' })
    const odd = ['fe80::1%eth0', 'fe80::1%25eth0', '::1%lo', '::ffff:127.0.0.1%lo', '[::1]', '[fe80::1%eth0]', '127.0.0.01', '%', 'f'.repeat(5000)]
    for (const [i, hostIp] of odd.entries()) {
      const marker = `odd-${i}`
      const res = await send(`${gw.url}/containers/create`, token, 'POST', {
        Image: d.image,
        Cmd: ['true'],
        Labels: { ...label.labels, 'dgw.case': marker },
        HostConfig: { PortBindings: { '80/tcp': [{ HostIp: hostIp, HostPort: '18080' }] } }
      })
      const shown = JSON.stringify(hostIp.slice(0, 30))
      t.equal(res.status, 403, `${shown}: 403, not 500`)
      t.same(Object.keys(res.json ?? {}), ['message'], `${shown}: Docker's error shape`)
      t.match(res.json?.message, /^policy denied: HostConfig\.PortBindings\["80\/tcp"\]\[0\]\.HostIp=".*" is not an allowed host address .*\(rule: ports\)$/s, `${shown}: names the field and the rule`)
      if (hostIp.includes('%')) t.match(res.json?.message, 'a zone index such as %eth0 is not accepted', `${shown}: says why`)
      const left = await docker<Array<{ Id: string }>>('/containers/json', { query: { all: true, filters: { label: [label.filter, `dgw.case=${marker}`] } } })
      t.same(left.body, [], `${shown}: no container on the daemon`)
    }
  })

  t.test('control: a loopback HostIp, also written as an IPv4-mapped IPv6 address, is bound', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'hostip', scope: 'containers:read containers:write' })
    const port = String(await freePort())
    const res = await send(`${gw.url}/containers/create`, token, 'POST', {
      Image: d.image,
      Cmd: ['sleep', '30'],
      Labels: label.labels,
      HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '::ffff:127.0.0.1', HostPort: port }] } }
    })
    t.equal(res.status, 201, res.text)
    const info = await docker(`/containers/${res.json.Id as string}/json`)
    t.same(info.body.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '::ffff:127.0.0.1', HostPort: port }] }, 'forwarded as sent')
  })
}
