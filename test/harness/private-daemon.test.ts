// A private daemon from startDaemon() lives on its own bridge (never docker0,
// which another daemon may own), answers on TCP and on its unix socket, keeps
// its data across stop()/start(), and leaves nothing behind after destroy().
import fs from 'node:fs'
import t from 'tap'
import { request } from 'undici'
import { docker } from '../helpers/docker'
import { daemon, requireDockerd, startDaemon } from '../helpers/env'
import { processesMentioning } from './cleanup.cjs'
import { ping } from './engine'
import { freePort } from '../helpers/net'
import { waitFor } from '../helpers/wait'

const linkIndex = (name: string): string | undefined => {
  try { return fs.readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim() } catch { return undefined }
}

if (requireDockerd(t)) {
  t.test('private daemon lifecycle', async t => {
    const docker0Before = linkIndex('docker0')
    const d = await startDaemon({ name: 'lifecycle' })
    t.teardown(async () => { await d.destroy() })
    t.comment(`started ${d.url} on ${d.bridge} in ${d.timings.start} ms, image import ${d.timings.import} ms`)
    const target = { httpUrl: d.httpUrl }

    t.test('its default network uses its own bridge, not docker0', async t => {
      t.match(d.bridge, /^br-dgw\d+$/)
      const net = await docker('/networks/bridge', { target })
      t.equal(net.body.Options['com.docker.network.bridge.name'], d.bridge)
      t.not(net.body.Options['com.docker.network.bridge.name'], 'docker0')
      t.same(net.body.IPAM.Config.map((c: { Subnet: string }) => c.Subnet), [d.subnet])
      t.ok(linkIndex(d.bridge), `${d.bridge} exists`)
      t.equal(linkIndex('docker0'), docker0Before, 'docker0 is untouched (same interface, or still absent)')
    })

    t.test('the run\'s primary daemon, when private, has its own bridge too', async t => {
      let primary
      try { primary = daemon() } catch {}
      if (!primary?.private) {
        t.pass('the primary daemon is a reused DOCKER_TEST_HOST: its bridge is not ours to check')
        return
      }
      const net = await docker('/networks/bridge')
      t.equal(net.body.Options['com.docker.network.bridge.name'], primary.bridge)
    })

    t.test('answers on TCP and on its unix socket', async t => {
      t.ok(await ping({ httpUrl: d.httpUrl }), d.url)
      t.ok(await ping({ socketPath: d.socketPath }), `unix://${d.socketPath}`)
      const version = await docker('/version', { target: { socketPath: d.socketPath } })
      t.equal(version.status, 200)
      t.match(version.body, { ApiVersion: String })
    })

    t.test('published ports work without iptables (docker-proxy on 127.0.0.1)', async t => {
      const hostPort = await freePort()
      const created = await docker('/containers/create', {
        target,
        json: {
          Image: d.image,
          Cmd: ['sh', '-c', 'echo up > /index.html; exec httpd -f -p 80 -h /'],
          ExposedPorts: { '80/tcp': {} },
          // no HostIp: the daemon's --ip 127.0.0.1 keeps it on loopback
          HostConfig: { PortBindings: { '80/tcp': [{ HostPort: String(hostPort) }] } }
        }
      })
      t.equal(created.status, 201, created.text)
      t.equal((await docker(`/containers/${created.body.Id}/start`, { target, method: 'POST' })).status, 204)
      const inspect = await docker(`/containers/${created.body.Id}/json`, { target })
      t.match(inspect.body.NetworkSettings.IPAddress, new RegExp(`^172\\.30\\.${d.index}\\.`), 'the container is on the private subnet')
      t.same(inspect.body.NetworkSettings.Ports['80/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }])
      const body = await waitFor(async () => {
        const res = await request(`http://127.0.0.1:${hostPort}/index.html`)
        const text = await res.body.text()
        return res.statusCode === 200 ? text : undefined
      }, 10_000)
      t.equal(body, 'up\n')
    })

    t.test('stop() and start() keep the data root', async t => {
      const created = await docker('/containers/create', { target, json: { Image: d.image, Cmd: ['sleep', '600'] } })
      t.equal(created.status, 201, created.text)
      t.equal((await docker(`/containers/${created.body.Id}/start`, { target, method: 'POST' })).status, 204)
      await d.stop()
      t.equal(d.running, false)
      t.equal(await ping(target), false, 'a stopped daemon does not answer')
      await d.start()
      t.equal(d.running, true)
      const inspect = await docker(`/containers/${created.body.Id}/json`, { target })
      t.equal(inspect.status, 200, 'the container survived the restart')
      t.equal(inspect.body.Config.Image, d.image)
    })

    t.test('kill() then start() recovers from a crash', async t => {
      await d.kill()
      t.equal(await ping(target), false)
      const t0 = Date.now()
      await d.start()
      t.ok(await ping(target))
      t.comment(`restart after crash: ${Date.now() - t0} ms`)
    })

    t.test('destroy() removes processes, bridge and directories', async t => {
      await d.destroy()
      t.equal(d.running, false)
      t.equal(linkIndex(d.bridge), undefined, `${d.bridge} is gone`)
      t.notOk(fs.existsSync(d.dir), `${d.dir} is gone`)
      t.same(processesMentioning(d.dir + '/'), [], 'no dockerd, containerd, shim or container process is left')
      t.equal(linkIndex('docker0'), docker0Before, 'docker0 is still untouched')
    })
  })
}
