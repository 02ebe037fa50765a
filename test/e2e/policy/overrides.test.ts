import t from 'tap'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { waitFor } from '../../helpers/wait'
import { containersLabelled, send, writeConfig } from '../../helpers/policy/client'

/**
 * A `policy:` section in the GATEWAY_CONFIG file, against the real daemon:
 * one allowed bind tree (a temp dir) that containers really write into, and
 * an admin override that allows low host ports without loosening anything
 * else.
 */

/** A port below 1024 nobody listens on: 81 if free, else one from 900-1023. */
async function freeLowPort (): Promise<number | undefined> {
  const candidates = [81, ...Array.from({ length: 8 }, () => 900 + Math.floor(Math.random() * 124))]
  for (const port of candidates) {
    const free = await new Promise<boolean>(resolve => {
      const srv = net.createServer()
      srv.once('error', () => { resolve(false) })
      srv.listen(port, '127.0.0.1', () => { srv.close(() => { resolve(true) }) })
    })
    if (free) return port
  }
  return undefined
}

const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('policy from the config file, with an admin override', async t => {
    const { file, dir } = writeConfig(t, '')
    const allowed = path.join(dir, 'allowed')
    fs.mkdirSync(path.join(allowed, 'data'), { recursive: true })
    fs.mkdirSync(path.join(dir, 'outside'))
    fs.writeFileSync(file, [
      'policy:',
      '  allowedBindPrefixes:',
      `    - ${JSON.stringify(allowed)}`,
      '  overrides:',
      '    - scopes: [admin]',
      '      policy:',
      '        hostPortRange: { min: 1 }',
      ''
    ].join('\n'))
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
    t.same(gw.config.policy.allowedBindPrefixes, [allowed], 'read from the YAML file')
    const user = gw.token({ sub: `user-${label.value}`, scope: 'containers:read containers:write' })
    const admin = gw.token({ sub: `admin-${label.value}`, scope: 'admin' })
    const create = async (token: string, tag: string, extra: Record<string, unknown>) =>
      await send(`${gw.url}/containers/create`, token, 'POST', { Image: d.image, Labels: { ...label.labels, 'dgw.case': tag }, ...extra })
    const onDaemon = async (tag: string) => await containersLabelled(label.filter, `dgw.case=${tag}`)

    await t.test('a bind under the allowed prefix works: the file written in the container is on the host', async t => {
      const res = await create(user, 'bind-ok', {
        Cmd: ['sh', '-c', 'echo written-in-container > /data/out.txt'],
        HostConfig: { Binds: [`${allowed}/data:/data:rw,z`] }
      })
      t.equal(res.status, 201, res.text)
      const id = res.json.Id as string
      t.equal((await send(`${gw.url}/containers/${id}/start`, user, 'POST')).status, 204)
      const waited = await send(`${gw.url}/containers/${id}/wait`, user, 'POST')
      t.same(waited.json, { Error: null, StatusCode: 0 })
      t.equal(fs.readFileSync(path.join(allowed, 'data', 'out.txt'), 'utf8'), 'written-in-container\n')
    })

    await t.test('binds outside the prefix are denied, however they are spelled', async t => {
      const outside: Array<[string, Record<string, unknown>, string]> = [
        ['a sibling directory', { Binds: [`${dir}/outside:/x`] }, `HostConfig.Binds[0]="${dir}/outside:/x" mounts a host path outside the allowed bind prefixes (allowed: ${allowed})`],
        ['a name sharing the prefix', { Binds: [`${allowed}x:/x`] }, 'outside the allowed bind prefixes'],
        ['.. out of the prefix', { Binds: [`${allowed}/data/../../outside:/x`] }, `(${dir}/outside once cleaned)`],
        ['// and /./ out of the prefix', { Binds: [`/${allowed}/./../outside:/x`] }, `(${dir}/outside once cleaned)`],
        ['a relative source', { Binds: ['allowed/data:/x'] }, 'HostConfig.Binds[0]'],
        ['Mounts of type bind', { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] }, 'HostConfig.Mounts[0].Source="/" mounts a host path outside'],
        ['the local volume driver binding a host path', { Mounts: [{ Type: 'volume', Source: `v-${label.value}`, Target: '/v', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: `${dir}/outside` } } } }] }, 'rule: volume-driver']
      ]
      for (const [i, [name, hostConfig, message]] of outside.entries()) {
        for (const [who, token] of [['user', user], ['admin', admin]] as const) {
          const res = await create(token, `out-${i}-${who}`, { Cmd: ['true'], HostConfig: hostConfig })
          t.equal(res.status, 403, `${who}: ${name}`)
          t.match(res.json?.message, message, `${who}: ${name}: ${res.text}`)
          t.same(await onDaemon(`out-${i}-${who}`), [], `${who}: ${name}: no container`)
        }
      }
      t.same(fs.readdirSync(path.join(dir, 'outside')), [], 'nothing was written outside the prefix')
    })

    await t.test('admin may publish a port below 1024, a non-admin may not', async t => {
      const port = await freeLowPort()
      if (port === undefined) return t.fail('no free port below 1024 on 127.0.0.1')
      const body = {
        Cmd: ['sh', '-c', 'mkdir -p /www && echo low-port-ok > /www/index.html && exec httpd -f -p 80 -h /www'],
        ExposedPorts: { '80/tcp': {} },
        HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } }
      }
      const denied = await create(user, 'low-user', body)
      t.equal(denied.status, 403)
      t.same(denied.json, { message: `policy denied: HostConfig.PortBindings["80/tcp"][0].HostPort="${port}" is outside the allowed host port range 1024-65535 (rule: port-binding)` })
      t.same(await onDaemon('low-user'), [], 'no container for the non-admin')

      const ok = await create(admin, 'low-admin', body)
      t.equal(ok.status, 201, ok.text)
      const id = ok.json.Id as string
      t.equal((await send(`${gw.url}/containers/${id}/start`, admin, 'POST')).status, 204)
      const info = (await docker(`/containers/${id}/json`)).body
      t.same(info.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] })
      t.equal(info.Config.Labels['docker-gateway.owner'], `admin-${label.value}`)
      const text = await waitFor(async () => {
        const res = await request(`http://127.0.0.1:${port}/index.html`)
        return res.statusCode === 200 ? await res.body.text() : undefined
      }, 10000)
      t.equal(text, 'low-port-ok\n', `the container answers on 127.0.0.1:${port}`)
      t.equal((await send(`${gw.url}/containers/${id}/kill`, admin, 'POST')).status, 204)
    })
  })

  t.test('requireReadOnlyBinds keeps containers from writing into the allowed tree', async t => {
    // A writable allowed tree lets one container plant a symlink (ln -s / tree/x)
    // that a later bind of tree/x follows on the host: the prefix check is
    // lexical and the daemon resolves the source when the container starts.
    const { file, dir } = writeConfig(t, '')
    const allowed = path.join(dir, 'allowed')
    fs.mkdirSync(allowed)
    fs.writeFileSync(file, `policy:\n  allowedBindPrefixes: [${JSON.stringify(allowed)}]\n  requireReadOnlyBinds: true\n`)
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
    const user = gw.token({ sub: `ro-${label.value}`, scope: 'containers:read containers:write' })
    const plant = { Image: d.image, Cmd: ['ln', '-s', '/', '/data/root'], Labels: { ...label.labels, 'dgw.case': 'ro' } }
    const rw = await send(`${gw.url}/containers/create`, user, 'POST', { ...plant, HostConfig: { Binds: [`${allowed}:/data`] } })
    t.equal(rw.status, 403)
    t.same(rw.json, { message: `policy denied: HostConfig.Binds[0]="${allowed}:/data" must be read-only (add ":ro") (rule: bind-mount)` })
    const mountRw = await send(`${gw.url}/containers/create`, user, 'POST', { ...plant, HostConfig: { Mounts: [{ Type: 'bind', Source: allowed, Target: '/data' }] } })
    t.equal(mountRw.status, 403)

    const ro = await send(`${gw.url}/containers/create`, user, 'POST', { ...plant, HostConfig: { Binds: [`${allowed}:/data:ro`] } })
    t.equal(ro.status, 201, ro.text)
    t.equal((await send(`${gw.url}/containers/${ro.json.Id as string}/start`, user, 'POST')).status, 204)
    const waited = await send(`${gw.url}/containers/${ro.json.Id as string}/wait`, user, 'POST')
    t.not(waited.json?.StatusCode, 0, 'ln fails on the read-only bind')
    t.same(fs.readdirSync(allowed), [], 'no symlink was planted')
  })
}
