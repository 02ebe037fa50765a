import crypto from 'node:crypto'
import zlib from 'node:zlib'
import { Readable } from 'node:stream'
import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'
import { engineRequest } from '../../harness/engine'
import { demux, makeTar } from '../../helpers/tar'

/**
 * docker cp uploads are bounded by limits.archiveUploadBytes, whatever their
 * framing: a declared Content-Length over it is refused before anything
 * reaches the daemon; a chunked upload (what the docker CLI sends) is cut
 * where it passes the limit, the client gets a 413 that says so, and the
 * daemon's extraction fails instead of completing on a cut archive. And
 * `path` is required and checked, before any daemon call.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })
  const LIMIT = 64 * 1024

  const execIn = async (id: string, cmd: string[]): Promise<{ stdout: string, stderr: string }> => {
    const created = await docker<{ Id: string }>(`/containers/${id}/exec`, { json: { Cmd: cmd, AttachStdout: true, AttachStderr: true } })
    return demux((await engineRequest(d, `/exec/${created.body.Id}/start`, { method: 'POST', json: { Detach: false, Tty: false } })).body)
  }

  t.test('uploads over limits.archiveUploadBytes, and bad paths', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_ARCHIVE_UPLOAD_BYTES: String(LIMIT), GATEWAY_DOCKER_CP: 'on' })
    const token = gw.token({ sub: `up-${crypto.randomBytes(3).toString('hex')}`, scope: 'containers:read containers:write containers:export containers:exec' })
    const auth = { authorization: `Bearer ${token}` }
    const created = await request(`${gw.url}/containers/create`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ Image: d.image, Cmd: ['sleep', '600'], Labels: label.labels })
    })
    const id = (await created.body.json() as { Id: string }).Id
    t.equal((await docker(`/containers/${id}/start`, { method: 'POST' })).status, 204)
    await execIn(id, ['mkdir', '-p', '/up'])
    const archiveUrl = (query: string): string => `${gw.url}/containers/${id}/archive${query}`

    // A small file first, then one that crosses the limit.
    const big = crypto.randomBytes(LIMIT * 3)
    const overLimit = makeTar([{ name: 'first', body: 'complete' }, { name: 'big', body: big }])

    await t.test('a Content-Length over the limit: 413 at once, nothing sent to the daemon', async t => {
      const res = await request(archiveUrl('?path=/up'), { method: 'PUT', headers: { ...auth, 'content-type': 'application/x-tar' }, body: overLimit })
      t.equal(res.statusCode, 413)
      t.equal(res.headers.connection, 'close', 'the unread rest of the upload is not drained')
      t.same(await res.body.json(), { message: `the archive is larger than limits.archiveUploadBytes (${LIMIT} bytes): nothing was sent to the daemon` })
      t.equal((await execIn(id, ['ls', '-A', '/up'])).stdout, '', 'the destination is untouched')
    })

    await t.test('a chunked upload is cut at the limit: 413, and the extraction fails instead of completing', async t => {
      const res = await request(archiveUrl('?path=/up'), {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/x-tar' },
        // A stream without a length: sent chunked, as the docker CLI sends it.
        body: Readable.from((function * () { for (let i = 0; i < overLimit.length; i += 16 * 1024) yield overLimit.subarray(i, i + 16 * 1024) })())
      })
      t.equal(res.statusCode, 413)
      const body = await res.body.json() as { message: string }
      t.equal(res.headers.connection, 'close')
      t.same(body, { message: `the archive is larger than limits.archiveUploadBytes (${LIMIT} bytes): the upload was stopped before the first entry that did not fit, so the daemon's extraction failed; the entries before it were extracted, each whole` })
      // What the container ends up with: the entry before the cut whole, the one
      // that did not fit not begun (the cut is before its header: src/docker/tar-cut.ts).
      t.equal((await execIn(id, ['cat', '/up/first'])).stdout, 'complete', 'the entry before the cut was extracted whole')
      t.equal((await execIn(id, ['ls', '-A', '/up'])).stdout, 'first\n', 'no partial "big"')
      // The daemon is not blamed for the client's upload: the next call goes through.
      const ok = await request(archiveUrl('?path=/up'), { method: 'PUT', headers: auth, body: makeTar([{ name: 'after', body: 'fine' }]) })
      t.equal(ok.statusCode, 200, await ok.body.text())
      t.equal((await execIn(id, ['cat', '/up/after'])).stdout, 'fine')
    })

    await t.test('a chunked upload under the limit is extracted', async t => {
      const small = makeTar([{ name: 'chunked', body: crypto.randomBytes(LIMIT / 2).toString('hex').slice(0, LIMIT / 2) }])
      const res = await request(archiveUrl('?path=/up'), { method: 'PUT', headers: auth, body: Readable.from([small.subarray(0, 1000), small.subarray(1000)]) })
      t.equal(res.statusCode, 200, await res.body.text())
      t.equal((await execIn(id, ['sh', '-c', 'wc -c < /up/chunked'])).stdout.trim(), String(LIMIT / 2))
    })

    await t.test('a compressed archive is refused (415) before any byte reaches the daemon', async t => {
      // 10 MB of zeros in 10 KB: dockerd would decompress it on its host, past the limit.
      const bomb = zlib.gzipSync(makeTar([{ name: 'bomb', body: Buffer.alloc(10 * 1024 * 1024) }]))
      t.ok(bomb.length < LIMIT)
      const res = await request(archiveUrl('?path=/up'), { method: 'PUT', headers: { ...auth, 'content-type': 'application/x-tar' }, body: Readable.from([bomb]) })
      t.equal(res.statusCode, 415)
      t.same(await res.body.json(), { message: 'compressed archives are not accepted: send a plain tar (the daemon would decompress it on its host, beyond limits.archiveUploadBytes)' })
      t.equal((await execIn(id, ['sh', '-c', 'ls /up | grep -c bomb; true'])).stdout, '0\n', 'nothing extracted')
    })

    await t.test('path is required and checked, before any daemon call', async t => {
      const tar = makeTar([{ name: 'never', body: 'x' }])
      for (const method of ['GET', 'HEAD', 'PUT'] as const) {
        for (const [query, message] of [
          ['', 'bad parameter: path cannot be empty'],
          ['?path=', 'bad parameter: path cannot be empty'],
          ['?path=/up%0Anever', 'invalid value for "path": a path in the container holds no control characters'],
          ['?path=/up%00', 'invalid value for "path": a path in the container holds no control characters'],
          [`?path=/${'a'.repeat(4096)}`, 'invalid value for "path": longer than 4096 bytes']
        ] as const) {
          const res = await request(archiveUrl(query), { method, headers: auth, ...(method === 'PUT' ? { body: tar } : {}) })
          t.equal(res.statusCode, 400, `${method} ${query.slice(0, 20)}`)
          if (method !== 'HEAD') t.same(await res.body.json(), { message }, `${method} ${query.slice(0, 20)}`)
          else await res.body.dump()
        }
      }
      t.equal((await execIn(id, ['sh', '-c', 'ls /up /; true'])).stdout.includes('never'), false, 'nothing was written')
    })
  })
}
