import http from 'node:http'
import t from 'tap'
import { request } from 'undici'
import { requireDaemon } from '../../helpers/env'
import { docker } from '../../helpers/docker'
import { hasImage, NO_REGISTRY_AUTH, progressMessages, pushImage, removeImage, requireRegistry, startRegistry, type Registry } from '../../helpers/registry'
import { startWatchedGateway, type WatchedGateway } from '../../helpers/security/gateway-app'
import { writeConfig } from '../../helpers/policy/client'

/**
 * Issue 13 item 1: `POST /images/create` pulls only references the image
 * allow-list names, judged on the whole normalised reference (registry
 * host included): a pull makes the daemon connect to that registry. On the
 * real app, a real daemon and a real registry; what is asserted is what the
 * daemon holds afterwards and what the registry was asked.
 */
const d = requireDaemon(t)

interface Pulled { status: number, chunks: number, text: string, type: string | undefined }

async function pull (gw: WatchedGateway, query: string, token: string, headers: Record<string, string> = {}): Promise<Pulled> {
  const res = await request(`${gw.url}/images/create?${query}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers } })
  let chunks = 0
  let text = ''
  for await (const chunk of res.body) {
    chunks++
    text += (chunk as Buffer).toString('utf8')
  }
  return { status: res.statusCode, chunks, text, type: res.headers['content-type'] as string | undefined }
}

/** Manifest requests the registry saw for a repository. */
const manifestRequests = (reg: Registry, repo: string): string[] =>
  reg.log().split('\n').filter(l => l.includes(`/v2/${repo}/manifests/`))

if (d !== undefined && requireRegistry(t)) {
  t.test('image pulls through the gateway', async t => {
    const reg = await startRegistry(t)
    const allowed = await pushImage(reg, { repo: 'team/app', tag: 'v1', distinct: true })
    const refused = await pushImage(reg, { repo: 'other/app', tag: 'v1', distinct: true })
    t.teardown(async () => { await removeImage(allowed.ref, { force: true }); await removeImage(refused.ref, { force: true }) })
    await removeImage(allowed.ref)
    await removeImage(refused.ref)

    const { file } = writeConfig(t, { policy: { imageAllowList: [`${reg.host}/team/*`] } })
    const gw = await startWatchedGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
    const puller = gw.token('puller', 'images:pull')

    t.test('an allowed reference is pulled: the progress stream passes as JSON lines and the daemon has the image', async t => {
      t.notOk(await hasImage(allowed.ref), 'not on the daemon before')
      const res = await pull(gw, `fromImage=${encodeURIComponent(allowed.name)}&tag=v1`, puller, { 'x-registry-auth': NO_REGISTRY_AUTH })
      t.equal(res.status, 200, res.text)
      t.match(res.type, /^application\/json/)
      const messages = progressMessages(res.text, 'pull')
      t.ok(messages.length > 1, `${messages.length} progress messages in ${res.chunks} chunks`)
      t.ok(messages.some(m => typeof m.status === 'string' && m.status.includes('Downloaded newer image')), 'the daemon says it downloaded the image')
      t.ok(await hasImage(allowed.ref), 'the daemon has the image')
      t.ok(manifestRequests(reg, 'team/app').length > 0, 'the registry served its manifest')
    })

    t.test('the tag inside fromImage (tag empty) is the reference judged and pulled', async t => {
      await removeImage(allowed.ref)
      const res = await pull(gw, `fromImage=${encodeURIComponent(allowed.ref)}&tag=`, puller)
      t.equal(res.status, 200, res.text)
      progressMessages(res.text, 'pull')
      t.ok(await hasImage(allowed.ref), 'the daemon has the image')
    })

    t.test('a reference outside the list is a 403: nothing pulled, the registry never asked', async t => {
      const before = manifestRequests(reg, 'other/app').length
      for (const query of [
        `fromImage=${encodeURIComponent(refused.name)}&tag=v1`,
        `fromImage=${encodeURIComponent(refused.ref)}`,
        // The tag parameter replaces the name's: judged as other/app:v1.
        `fromImage=${encodeURIComponent(`${refused.name}:v2`)}&tag=v1`,
        // The same repository path on another registry host (the daemon would connect there).
        `fromImage=${encodeURIComponent(`localhost:${reg.port}/team/app`)}&tag=v1`,
        `fromImage=team/app&tag=v1`
      ]) {
        const res = await pull(gw, query, puller)
        t.equal(res.status, 403, `${query}: ${res.text}`)
        t.match(JSON.parse(res.text).message, /not in the image allow-list/, query)
      }
      t.notOk(await hasImage(refused.ref), 'the daemon does not have the image')
      t.equal(manifestRequests(reg, 'other/app').length, before, 'no manifest request reached the registry')
      const audit = gw.audit().at(-1) as Record<string, any>
      t.match(audit, { principal: 'puller', route: 'POST /images/create', decision: 'deny', status: 403, reason: 'policy: image-pull' })
    })

    t.test('every tag (no tag, no digest) is refused, allowed repository or not', async t => {
      const res = await pull(gw, `fromImage=${encodeURIComponent(allowed.name)}`, puller)
      t.equal(res.status, 403, res.text)
      t.match(JSON.parse(res.text).message, /every tag/)
    })

    t.test('a token without images:pull is a 403 naming the scope', async t => {
      const res = await pull(gw, `fromImage=${encodeURIComponent(allowed.name)}&tag=v1`, gw.token('user', 'containers:read containers:write images:read'))
      t.equal(res.status, 403)
      t.same(JSON.parse(res.text), { message: 'token lacks the scope "images:pull" needed for POST /images/create' })
    })

    t.test('fromSrc (import) is refused with a 403, whatever else is sent; nothing is imported', async t => {
      for (const query of ['fromSrc=-&repo=dgw-imported&tag=x', `fromSrc=${encodeURIComponent(`${reg.url}/v2/`)}&repo=dgw-imported&tag=x`, `fromImage=${encodeURIComponent(allowed.name)}&tag=v1&fromSrc=-`]) {
        const res = await pull(gw, query, puller)
        t.equal(res.status, 403, `${query}: ${res.text}`)
        t.match(JSON.parse(res.text).message, /"fromSrc" is not allowed through this gateway \(image import/)
      }
      t.notOk(await hasImage('dgw-imported:x'), 'nothing was imported')
      t.match(gw.audit().at(-1), { route: 'POST /images/create', decision: 'deny', status: 403, reason: 'refused parameter fromSrc' })
    })

    t.test('a form body (which would override the query in dockerd) is refused', async t => {
      const res = await request(`${gw.url}/images/create?fromImage=${encodeURIComponent(allowed.name)}&tag=v1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${puller}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: `fromImage=${encodeURIComponent(refused.name)}&tag=v1`
      })
      t.equal(res.statusCode, 400, await res.body.text())
      t.notOk(await hasImage(refused.ref), 'the daemon does not have the image')
    })

    t.test('an empty allow-list refuses every pull with a 403 that names the key', async t => {
      const empty = await startWatchedGateway(t, { GATEWAY_UPSTREAM: d.url })
      const before = manifestRequests(reg, 'team/app').length
      await removeImage(allowed.ref)
      const res = await pull(empty, `fromImage=${encodeURIComponent(allowed.name)}&tag=v1`, empty.token('puller', 'images:pull'))
      t.equal(res.status, 403, res.text)
      t.match(JSON.parse(res.text).message, /policy\.imageAllowList is empty/)
      t.notOk(await hasImage(allowed.ref), 'the daemon does not have the image')
      t.equal(manifestRequests(reg, 'team/app').length, before, 'the registry was not asked')
      // Even an admin: the list is the policy, not a scope.
      const admin = await pull(empty, `fromImage=${encodeURIComponent(allowed.name)}&tag=v1`, empty.token('root', 'admin'))
      t.equal(admin.status, 403, admin.text)
    })
  })

  t.test('X-Registry-Auth reaches the registry through the daemon, and no log line carries it', async t => {
    // A registry that demands credentials (RFC 7617 Basic challenge on /v2/,
    // as distribution's token-less auth does) and records what it was sent.
    const seen: Array<{ url: string, auth: string | undefined }> = []
    const server = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization })
      if (req.headers.authorization === undefined) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="dgw-test"', 'docker-distribution-api-version': 'registry/2.0', 'content-type': 'application/json' })
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
        return
      }
      res.writeHead(404, { 'docker-distribution-api-version': 'registry/2.0', 'content-type': 'application/json' })
      res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => { server.close() })
    const port = (server.address() as { port: number }).port
    const password = 'dgw-secret-pw-7f3a'
    // base64url with padding, as the docker CLI sends it (Go's base64.URLEncoding, which the daemon decodes with).
    const auth = Buffer.from(JSON.stringify({ username: 'dgw-user', password, serveraddress: `127.0.0.1:${port}` })).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')

    const { file } = writeConfig(t, { policy: { imageAllowList: [`127.0.0.1:${port}/*`] } })
    const gw = await startWatchedGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
    const res = await pull(gw, `fromImage=127.0.0.1:${port}/locked/app&tag=v1`, gw.token('puller', 'images:pull'), { 'x-registry-auth': auth })
    // The daemon answers the registry's refusal in the stream or as an error status: either way it asked with the credentials.
    t.ok(res.status === 200 || res.status >= 400, `${res.status} ${res.text}`)
    const expected = `Basic ${Buffer.from(`dgw-user:${password}`).toString('base64')}`
    t.ok(seen.some(s => s.auth === expected), `the registry got the caller's credentials: ${JSON.stringify(seen)}`)
    const logged = JSON.stringify([...gw.audit(), ...gw.log()])
    t.notOk(logged.includes(password) || logged.includes(auth), 'neither the header nor the password is in an audit or log line')
    t.ok(gw.audit().some(l => l.route === 'POST /images/create'), 'the pull was audited')
  })

  t.test('the pull stream is a stream: the daemon\'s answer to a bad reference still passes in its own words', async t => {
    const { file } = writeConfig(t, { policy: { imageAllowList: ['127.0.0.1:1/*'] } })
    const gw = await startWatchedGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
    const res = await pull(gw, 'fromImage=127.0.0.1:1/nothing&tag=v1', gw.token('puller', 'images:pull'))
    // Connection refused at the registry: dockerd answers with an error (status or stream line), never the gateway's own.
    t.notMatch(res.text, /policy|allow-list/, res.text)
    t.ok(res.text.includes('127.0.0.1:1'), 'the daemon names the registry it could not reach')
    t.notOk((await docker('/images/127.0.0.1:1/nothing:v1/json')).status === 200)
  })
}
