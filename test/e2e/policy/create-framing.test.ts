import t from 'tap'
import net from 'node:net'
import { Readable } from 'node:stream'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { containersLabelled, send } from '../../helpers/policy/client'

/**
 * How a create body is framed and labelled must not change what the policy
 * sees, nor let the daemon get bytes the policy did not judge (issue 4 §1):
 * Content-Type variants of application/json parse the same, any other type
 * is a 415, and Content-Length: 0 followed by bytes, chunked bodies and
 * oversize bodies are all decided by the gateway before anything is
 * forwarded.
 */

/** Write `bytes` on a fresh connection, read until the server closes it (or `ms` pass). */
async function rawExchange (port: number, bytes: string | Buffer, ms = 5000): Promise<string> {
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const sock = net.connect(port, '127.0.0.1')
    const timer = setTimeout(() => { sock.destroy(); resolve(Buffer.concat(chunks).toString('latin1')) }, ms)
    sock.on('data', c => chunks.push(c))
    // The server may answer and close before it read everything we wrote.
    sock.on('error', err => { if ((err as NodeJS.ErrnoException).code !== 'EPIPE' && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err) })
    sock.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')) })
    sock.write(bytes)
  })
}

/** Status lines and JSON bodies of the (non-chunked) responses in a raw exchange. */
function responses (text: string): Array<{ status: number, json: any }> {
  const out: Array<{ status: number, json: any }> = []
  const re = /HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/g
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    const len = /content-length: (\d+)/i.exec(m[2] as string)
    const body = len !== null ? text.slice(re.lastIndex, re.lastIndex + Number(len[1])) : ''
    let json: any
    try { json = JSON.parse(body) } catch { json = undefined }
    out.push({ status: Number(m[1]), json })
    re.lastIndex += body.length
  }
  return out
}

const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  const principal = `e2e-${label.value}`
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('framing and content types', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: principal, scope: 'containers:read containers:write' })
    const create = `${gw.url}/containers/create`
    const body = (tag: string, hostConfig: Record<string, unknown> = {}): string =>
      JSON.stringify({ Image: d.image, Cmd: ['true'], Labels: { ...label.labels, 'dgw.case': tag }, HostConfig: hostConfig })
    const onDaemon = async (tag: string) => await containersLabelled(label.filter, `dgw.case=${tag}`)
    const privileged = 'policy denied: HostConfig.Privileged=true is not allowed (all capabilities and host devices, no confinement) (rule: privileged)'
    const head = (extra: string) => `POST /containers/create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n${extra}`

    await t.test('application/json variants parse the same', async t => {
      for (const [tag, type] of [['json', 'application/json'], ['charset', 'application/json; charset=utf-8'], ['upper', 'APPLICATION/JSON'], ['spaced', 'Application/Json ; Charset="UTF-8"']] as const) {
        const ok = await send(create, token, 'POST', body(tag), { 'content-type': type })
        t.equal(ok.status, 201, `${type}: ${ok.text}`)
        t.same(await onDaemon(tag), [ok.json?.Id], `${type}: created`)
        const info = (await docker(`/containers/${ok.json?.Id as string}/json`)).body
        t.equal(info.Config.Labels['docker-gateway.owner'], principal, `${type}: vetted (owner label stamped)`)
        t.equal(info.HostConfig.Memory, 1024 ** 3, `${type}: vetted (default Memory injected)`)

        const no = await send(create, token, 'POST', body(`${tag}-priv`, { Privileged: true }), { 'content-type': type })
        t.equal(no.status, 403, type)
        t.same(no.json, { message: privileged })
        t.same(await onDaemon(`${tag}-priv`), [], `${type}: denied body left no container`)
      }
    })

    await t.test('any other content type is a 415, whatever the body says', async t => {
      for (const [tag, type] of [['text', 'text/plain'], ['form', 'application/x-www-form-urlencoded'], ['latin1', 'application/json; charset=iso-8859-1'], ['jsonish', 'application/jsonx']] as const) {
        const res = await send(create, token, 'POST', body(tag), { 'content-type': type })
        t.equal(res.status, 415, type)
        t.same(res.json, { message: 'Content-Type must be application/json' })
        t.same(await onDaemon(tag), [], `${type}: no container`)
      }
      const raw = body('none')
      const missing = responses(await rawExchange(gw.port, `${head('')}Content-Length: ${Buffer.byteLength(raw)}\r\nConnection: close\r\n\r\n${raw}`))
      t.same(missing.map(r => r.status), [415], 'no Content-Type at all')
      t.same(await onDaemon('none'), [])
    })

    await t.test('Content-Length: 0 followed by bytes: the bytes are not the body', async t => {
      // The trailing bytes are a second, complete request on the same
      // connection: it is read as one (vetted like any other), never as the
      // first request's body.
      const smuggled = body('smuggled', { Privileged: true })
      const second = `${head('Content-Type: application/json\r\n')}Content-Length: ${Buffer.byteLength(smuggled)}\r\nConnection: close\r\n\r\n${smuggled}`
      const got = responses(await rawExchange(gw.port, `${head('Content-Type: application/json\r\n')}Content-Length: 0\r\n\r\n${second}`))
      t.same(got.map(r => r.status), [400, 403], 'an empty create, then the trailing request denied by the policy')
      t.same(got[0]?.json, { message: 'request body is required (a JSON object)' })
      t.same(got[1]?.json, { message: privileged })

      const garbage = body('cl0-garbage', { Privileged: true })
      // Here the bytes after the head are no request at all: Node's parser
      // fails on them and the connection is answered 400 and closed (the
      // empty create may or may not be answered first).
      const got2 = responses(await rawExchange(gw.port, `${head('Content-Type: application/json\r\n')}Content-Length: 0\r\n\r\n${garbage}`))
      t.ok(got2.length >= 1 && got2.every(r => r.status === 400), `only 400s: ${got2.map(r => r.status).join(', ')}`)
      t.ok(got2.every(r => r.json !== undefined && Object.keys(r.json).join() === 'message'), 'each in Docker\'s shape')
      t.same(await onDaemon('smuggled'), [], 'no container from the trailing request')
      t.same(await onDaemon('cl0-garbage'), [], 'no container from the trailing bytes')
    })

    await t.test('Content-Length together with Transfer-Encoding is refused', async t => {
      const raw = body('cl-te', { Privileged: true })
      const chunked = `${Buffer.byteLength(raw).toString(16)}\r\n${raw}\r\n0\r\n\r\n`
      const got = responses(await rawExchange(gw.port, `${head('Content-Type: application/json\r\n')}Content-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`))
      t.equal(got[0]?.status, 400, 'RFC 9112 §6.1: a request with both is a smuggling attempt')
      t.same(Object.keys(got[0]?.json ?? {}), ['message'], 'answered in Docker\'s shape')
      t.same(await onDaemon('cl-te'), [])
    })

    await t.test('a chunked body is read whole, vetted and re-serialised', async t => {
      const split = (s: string): string[] => [s.slice(0, 20), s.slice(20, s.indexOf('Privileged') + 5), s.slice(s.indexOf('Privileged') + 5)]
      const sendChunked = async (raw: string) => {
        const res = await request(create, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          // A stream has no length: undici sends it chunked.
          body: Readable.from(split(raw).map(part => Buffer.from(part)))
        })
        const text = await res.body.text()
        return { status: res.statusCode, json: JSON.parse(text), text }
      }
      const no = await sendChunked(body('chunked-priv', { Privileged: true }))
      t.equal(no.status, 403)
      t.same(no.json, { message: privileged })
      t.same(await onDaemon('chunked-priv'), [])

      const ok = await sendChunked(body('chunked-ok', { Privileged: false }))
      t.equal(ok.status, 201, ok.text)
      t.same(await onDaemon('chunked-ok'), [ok.json.Id])
      const info = (await docker(`/containers/${ok.json.Id as string}/json`)).body
      t.equal(info.Config.Labels['docker-gateway.owner'], principal, 'vetted: owner label stamped')
      t.same([info.HostConfig.Memory, info.HostConfig.NanoCpus, info.HostConfig.PidsLimit], [1024 ** 3, 1e9, 1024], 'vetted: defaults injected')
    })

    await t.test('an oversize body is a 413 before anything is forwarded', async t => {
      const limit = gw.config.bodyLimit
      const big = JSON.stringify({ Image: d.image, Cmd: ['true'], Labels: { ...label.labels, 'dgw.case': 'big' }, Env: [`PAD=${'x'.repeat(limit)}`] })
      const res = await send(create, token, 'POST', big)
      t.equal(res.status, 413)
      t.same(res.json, { message: `request body is larger than ${limit} bytes` })

      const bigChunked = JSON.stringify({ Image: d.image, Cmd: ['true'], Labels: { ...label.labels, 'dgw.case': 'big-chunked' }, Env: [`PAD=${'x'.repeat(limit)}`] })
      const chunks = [bigChunked.slice(0, 1000), bigChunked.slice(1000)].map(c => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n'
      const got = responses(await rawExchange(gw.port, `${head('Content-Type: application/json\r\n')}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}`))
      t.equal(got[0]?.status, 413, 'chunked, over the limit')
      t.same(got[0]?.json, { message: `request body is larger than ${limit} bytes` })
      t.same(await onDaemon('big'), [], 'no container')
      t.same(await onDaemon('big-chunked'), [], 'no container')
    })

    t.same((await containersLabelled(label.filter)).length, 5, 'the only containers are the five allowed ones (4 content types + chunked)')
  })
}
