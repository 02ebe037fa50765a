// The harness's primary daemon runs containers from the test image: a
// published port answers over HTTP on 127.0.0.1 and `echo` output shows up in
// the container's logs. If this fails, every integration test would too.
import t from 'tap'
import { request } from 'undici'
import { cleanupLabel, docker, testLabel } from '../helpers/docker'
import { requireDaemon } from '../helpers/env'
import { freePort } from '../helpers/net'
import { waitFor } from '../helpers/wait'

const d = requireDaemon(t)
if (d) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('a container of the test image serves HTTP on a published port and logs its echo', async t => {
    const hostPort = await freePort()
    const marker = `hello-${label.value}`
    const created = await docker('/containers/create', {
      json: {
        Image: d.image,
        Cmd: ['sh', '-c', `echo ${marker}; echo '<p>${marker}</p>' > /index.html; exec httpd -f -p 80 -h /`],
        Labels: label.labels,
        ExposedPorts: { '80/tcp': {} },
        HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] } }
      }
    })
    t.equal(created.status, 201, created.text)
    const id: string = created.body.Id
    const started = await docker(`/containers/${id}/start`, { method: 'POST' })
    t.equal(started.status, 204, started.text)

    const page = await waitFor(async () => {
      const res = await request(`http://127.0.0.1:${hostPort}/index.html`)
      const text = await res.body.text()
      return res.statusCode === 200 ? text : undefined
    }, 10_000)
    t.match(page, `<p>${marker}</p>`, 'the published port answers with the container\'s page')

    const logs = await docker(`/containers/${id}/logs`, { query: { stdout: 1, stderr: 1 } })
    t.equal(logs.status, 200)
    // non-TTY logs are multiplexed: an 8-byte frame header precedes the line
    t.match(logs.text, marker, 'the echo is in the logs')

    const inspect = await docker(`/containers/${id}/json`)
    t.equal(inspect.body.State.Running, true)
  })
}
