// countDaemonConnections() sees an open keep-alive connection to the daemon
// and stops seeing it once the connection is closed: what the leak tests rely on.
import t from 'tap'
import { Client } from 'undici'
import { requireDaemon } from '../helpers/env'
import { countDaemonConnections } from '../helpers/net'
import { waitFor } from '../helpers/wait'

const d = requireDaemon(t)
if (d?.port) {
  const port = d.port
  t.test('counts this process\'s established connections to the daemon port', async t => {
    const before = countDaemonConnections(port)
    const clients = [new Client(d.httpUrl ?? ''), new Client(d.httpUrl ?? '')]
    for (const c of clients) {
      const res = await c.request({ path: '/_ping', method: 'GET' })
      await res.body.text()
    }
    t.equal(countDaemonConnections(port), before + 2, 'two keep-alive connections are open')
    t.ok(countDaemonConnections(port, { scope: 'machine' }) >= before + 2, 'machine-wide count includes them')
    await Promise.all(clients.map(async c => { await c.close() }))
    await waitFor(() => countDaemonConnections(port) === before, 5000)
    t.equal(countDaemonConnections(port), before, 'closed connections are no longer counted')
  })
} else if (d) {
  t.fail(`the daemon ${d.url} has no TCP port to count connections on`)
}
