import t from 'tap'
import net from 'node:net'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { tarEntries, demux } from '../../helpers/tar'

const daemon = requireDaemon(t)
const upstream = daemon?.url ?? ''
const image = daemon?.image ?? 'dgw-busybox:test'

/**
 * The seed workflow of issue 2, through the gateway against the real daemon:
 * what a curl/PowerShell user does every day.
 */
const callFrom = `seed-${process.pid}`

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a !== null ? a.port : 0
      s.close(() => { resolve(port) })
    })
    s.on('error', reject)
  })
}

if (daemon !== undefined) t.test('seed workflow', async t => {
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: upstream })
  const auth = { authorization: `Bearer ${gw.token({ sub: 'seed', scope: 'admin' })}` }
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => {
    const res = await request(gw.url + path, {
      method,
      headers: body !== undefined ? { ...auth, 'content-type': 'application/json' } : auth,
      body: body !== undefined ? JSON.stringify(body) : undefined
    })
    const buf = Buffer.from(await res.body.arrayBuffer())
    return { status: res.statusCode, buf, text: buf.toString('utf8'), json: () => JSON.parse(buf.toString('utf8')) }
  }
  t.teardown(async () => {
    const list = await call('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`CallFrom=${callFrom}`] }))}`)
    for (const c of list.json() as Array<{ Id: string }>) await call('DELETE', `/containers/${c.Id}?force=1`)
  })

  const ports: number[] = []
  const ids: string[] = []
  for (const n of [1, 2, 3]) {
    const port = await freePort()
    ports.push(port)
    const res = await call('POST', `/containers/create?name=web0${n}-${process.pid}`, {
      Image: image,
      Cmd: ['sh', '-c', `echo started web0${n}; mkdir -p /www; echo hello web0${n} > /www/index.html; exec httpd -f -p 80 -h /www`],
      ExposedPorts: { '80/tcp': {} },
      Labels: { CallFrom: callFrom },
      HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } }
    })
    t.equal(res.status, 201, `create web0${n}: ${res.text}`)
    ids.push(res.json().Id)
  }
  const [web1, web2, web3] = ids as [string, string, string]

  for (const id of ids) {
    const res = await call('POST', `/containers/${id}/start`)
    t.equal(res.status, 204, 'start')
  }

  await t.test('published ports answer', async t => {
    for (const [i, port] of ports.entries()) {
      let body = ''
      for (let attempt = 0; attempt < 50 && body === ''; attempt++) {
        try {
          const r = await request(`http://127.0.0.1:${port}/index.html`)
          body = await r.body.text()
        } catch { await new Promise(resolve => setTimeout(resolve, 100)) }
      }
      t.equal(body.trim(), `hello web0${i + 1}`)
    }
  })

  await t.test('list with a label filter, encoded and raw', async t => {
    const filters = JSON.stringify({ label: [`CallFrom=${callFrom}`] })
    const enc = await call('GET', `/containers/json?filters=${encodeURIComponent(filters)}`)
    t.equal(enc.status, 200)
    t.equal(enc.json().length, 3)
    // curl users paste the JSON as is; the daemon accepts it and so must we.
    const raw = await call('GET', `/v1.41/containers/json?all=1&filters=${filters}`)
    t.equal(raw.status, 200)
    t.same((raw.json() as Array<{ Id: string }>).map(c => c.Id).sort(), [...ids].sort())
  })

  await t.test('inspect, top, changes', async t => {
    const ins = await call('GET', `/containers/${web1}/json`)
    t.equal(ins.status, 200)
    t.equal(ins.json().State.Running, true)
    t.equal(ins.json().Config.Labels.CallFrom, callFrom)
    const byName = await call('GET', `/containers/web01-${process.pid}/json?size=1`)
    t.equal(byName.json().Id, web1)
    const top = await call('GET', `/containers/${web1}/top?ps_args=-ef`)
    t.equal(top.status, 200)
    t.match(JSON.stringify(top.json().Processes), /httpd/)
    const changes = await call('GET', `/containers/${web1}/changes`)
    t.equal(changes.status, 200)
    t.ok((changes.json() as Array<{ Path: string }>).some(c => c.Path === '/www'), 'the /www directory shows as a change')
  })

  await t.test('logs, and follow ends when the container stops', async t => {
    const logs = await call('GET', `/containers/${web1}/logs?stdout=1&stderr=1&tail=all&timestamps=0`)
    t.equal(logs.status, 200)
    t.match(demux(logs.buf).stdout, 'started web01')

    const res = await request(`${gw.url}/containers/${web2}/logs?follow=1&stdout=1`, { headers: auth })
    t.equal(res.statusCode, 200)
    const chunks: Buffer[] = []
    const ended = (async () => { for await (const c of res.body) chunks.push(c as Buffer) })()
    const stop = await call('POST', `/containers/${web2}/stop?t=1`)
    t.equal(stop.status, 204)
    await ended
    t.match(demux(Buffer.concat(chunks)).stdout, 'started web02')
  })

  await t.test('stats: one-shot and a stream of several objects', async t => {
    const one = await call('GET', `/containers/${web1}/stats?stream=false&one-shot=true`)
    t.equal(one.status, 200)
    t.ok(one.json().memory_stats !== undefined, 'stats object')

    const res = await request(`${gw.url}/containers/${web1}/stats?stream=1`, { headers: auth })
    t.equal(res.statusCode, 200)
    let text = ''
    for await (const c of res.body) {
      text += (c as Buffer).toString('utf8')
      if (text.split('\n').filter(l => l.trim() !== '').length >= 3) break
    }
    const objects = text.split('\n').filter(l => l.trim() !== '').slice(0, 3).map(l => JSON.parse(l))
    t.equal(objects.length, 3)
    t.ok(objects.every(o => typeof o.read === 'string'))
  })

  await t.test('export is a tar of the filesystem', async t => {
    const res = await call('GET', `/containers/${web1}/export`)
    t.equal(res.status, 200)
    const names = tarEntries(res.buf)
    t.ok(names.includes('bin/busybox'), 'holds bin/busybox')
    t.ok(names.some(n => n.startsWith('www/')), 'holds the file written at start')
  })

  await t.test('restart, kill with a signal name, rename, delete', async t => {
    const restart = await call('POST', `/containers/${web2}/restart?t=1`)
    t.equal(restart.status, 204)
    t.equal((await call('GET', `/containers/${web2}/json`)).json().State.Running, true)

    const kill = await call('POST', `/containers/${web2}/kill?signal=SIGKILL`)
    t.equal(kill.status, 204)
    const after = (await call('GET', `/containers/${web2}/json`)).json()
    t.equal(after.State.Running, false)
    t.equal(after.State.ExitCode, 137, 'killed by SIGKILL')

    const rename = await call('POST', `/containers/${web3}/rename?name=web03-renamed-${process.pid}`)
    t.equal(rename.status, 204)
    t.equal((await call('GET', `/containers/web03-renamed-${process.pid}/json`)).json().Id, web3)

    const del = await call('DELETE', `/containers/${web3}?force=1&v=1`)
    t.equal(del.status, 204)
    const gone = await call('GET', `/containers/${web3}/json`)
    t.equal(gone.status, 404)
    t.same(gone.json(), { message: `No such container: ${web3}` }, "the daemon's error passes through unchanged")
  })
})
