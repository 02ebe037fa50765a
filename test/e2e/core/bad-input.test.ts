import t from 'tap'
import net from 'node:net'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'

const daemon = requireDaemon(t)
const upstream = daemon?.url ?? ''
const image = daemon?.image ?? 'dgw-busybox:test'

/**
 * Every bad input of issue 2 gets a Docker-shaped error with the right
 * status, and none reaches the daemon. The gateway here fronts the real
 * daemon, so a request that slipped through would get the daemon's answer
 * (a 201, a 301 redirect, a container list) instead of the gateway's.
 */

/** Send bytes exactly as written: undici and curl would normalise some of these paths. */
async function rawRequest (port: number, head: string, body = ''): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    // Write without half-closing: Node's HTTP server treats a client FIN as a hang-up.
    const sock = net.connect(port, '127.0.0.1', () => { sock.write(head + body) })
    let data = ''
    sock.on('data', d => { data += d.toString('utf8') })
    sock.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) })
    })
    sock.on('error', reject)
  })
}

if (daemon !== undefined) t.test('bad inputs', async t => {
  const gw = await startGateway(t, { GATEWAY_UPSTREAM: upstream, GATEWAY_BODY_LIMIT: '4096' })
  const token = gw.token({ sub: 'bad-input', scope: 'admin' })

  // [method, path, status, message fragment, body?, content-type?]
  const cases: Array<[string, string, number, string | RegExp, string?, string?]> = [
    ['GET', '/swarm', 404, /^page not found$/],
    ['POST', '/containers/json', 404, /^page not found$/],
    ['GET', '/containers/create', 404, /^page not found$/],
    ['POST', '/containers%2Fcreate', 400, 'percent-encoded', '{"Image":"x"}', 'application/json'],
    ['GET', '/containers/%2e%2e/json', 400, 'percent-encoded'],
    ['GET', '/containers/x/../../images/json', 400, 'dot segments'],
    ['GET', '//containers/json', 400, 'empty or dot'],
    ['GET', '/v01.043/containers/json', 400, 'v1.N'],
    ['GET', '/v1.43.0/containers/json', 400, 'v1.N'],
    ['GET', '/v1.12/containers/json', 400, 'too old'],
    ['GET', '/containers/json?filters=nope', 400, 'not valid JSON'],
    ['GET', '/containers/json?filters={"owner":["x"]}', 400, "invalid filter 'owner'"],
    ['GET', '/containers/json?filters=["label"]', 400, 'JSON object'],
    ['GET', '/containers/json?limit=many', 400, 'integer'],
    ['POST', '/containers/web01-nonexistent/kill?signal=KILL%3Brm', 400, 'invalid signal'],
    ['POST', '/containers/web01-nonexistent/rename?name=a/b', 400, 'Invalid container name'],
    ['GET', '/containers/-x/json', 400, 'invalid container name'],
    ['POST', '/containers/create', 415, 'application/json', '{"Image":"x"}', 'text/plain'],
    ['POST', '/containers/create', 415, 'application/json', 'Image=x', 'application/x-www-form-urlencoded'],
    ['POST', '/containers/create', 400, 'required', undefined, undefined],
    ['POST', '/containers/create', 400, 'JSON', '{"Image": ', 'application/json'],
    ['POST', '/containers/create', 413, 'larger than 4096', JSON.stringify({ Image: 'x', Env: ['A=' + 'x'.repeat(5000)] }), 'application/json'],
    ['POST', '/containers/web01-nonexistent/start', 400, 'takes no request body', '{"HostConfig":{"Privileged":true}}', 'application/json'],
    ['POST', '/containers/web01-nonexistent/stop', 400, 'takes no request body', 't=0', 'application/x-www-form-urlencoded']
  ]

  for (const [method, path, status, fragment, body, type] of cases) {
    await t.test(`${method} ${path}${type !== undefined ? ` (${type})` : ''} -> ${status}`, async t => {
      let head = `${method} ${path} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n`
      if (type !== undefined) head += `Content-Type: ${type}\r\n`
      if (body !== undefined) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`
      else if (method === 'POST') head += 'Content-Length: 0\r\n'
      const res = await rawRequest(gw.port, head + '\r\n', body)
      t.equal(res.status, status)
      const json = JSON.parse(res.body)
      t.same(Object.keys(json), ['message'], 'Docker-shaped body')
      t.match(json.message, fragment)
    })
  }

  await t.test('a chunked create body is read whole, bounded and re-framed', async t => {
    const body = JSON.stringify({ Image: image, Cmd: ['true'], Labels: { 'dgw.test': 'bad-input-chunked' } })
    const chunked = `${(body.length).toString(16)}\r\n${body}\r\n0\r\n\r\n`
    const head = `POST /containers/create HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`
    const res = await rawRequest(gw.port, head, chunked)
    t.equal(res.status, 201, res.body)
    const id = JSON.parse(res.body).Id as string
    const del = await request(`${gw.url}/containers/${id}?force=1`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
    t.equal(del.statusCode, 204)
  })

  await t.test('a version above what the daemon reports is refused by the gateway', async t => {
    // The ceiling is learned by the background health check; give it a moment.
    let res = { status: 0, body: '' }
    for (let i = 0; i < 50 && res.status !== 400; i++) {
      res = await rawRequest(gw.port, `GET /v1.99/containers/json HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)
      if (res.status !== 400) await new Promise(resolve => setTimeout(resolve, 100))
    }
    t.equal(res.status, 400)
    t.match(JSON.parse(res.body).message, /client version 1\.99 is too new\. Maximum supported API version is 1\.\d+/)
  })

  await t.test("gateway errors are typed exactly application/json, as the Go client requires to print their message", async t => {
    for (const path of ['/swarm', '/containers/json?filters=x']) {
      const res = await request(gw.url + path, { headers: { authorization: `Bearer ${token}` } })
      t.equal(res.headers['content-type'], 'application/json', path)
      await res.body.dump()
    }
  })

  await t.test('errors from the daemon pass through unchanged', async t => {
    const res = await request(`${gw.url}/containers/no-such-container-dgw/json`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 404)
    t.same(await res.body.json(), { message: 'No such container: no-such-container-dgw' })
    const start = await request(`${gw.url}/containers/no-such-container-dgw/start`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    t.equal(start.statusCode, 404)
    t.same(await start.body.json(), { message: 'No such container: no-such-container-dgw' })
  })

  await t.test('nothing bad reached the daemon: no container was created', async t => {
    const res = await request(`${gw.url}/containers/json?all=1&filters=${encodeURIComponent('{"ancestor":["x"]}')}`, { headers: { authorization: `Bearer ${token}` } })
    t.same(await res.body.json(), [])
  })
})
