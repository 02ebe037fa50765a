// `docker-gateway start` with nothing configured but the daemon, as a child
// process against the real daemon: it generates a JWT secret (0600) and a
// self-signed certificate in the data folder, prints the certificate's
// SHA-256 fingerprint and one admin token; that token, with the printed
// certificate as CA, lists containers over HTTPS. SIGHUP reloads the
// certificate; SIGTERM ends open streams and exits 0; a second start keeps
// the secret and certificate and prints no token.
import t from 'tap'
import { copyFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { freePort } from '../../helpers/net'
import { waitFor } from '../../helpers/wait'
import { ensureSelfSigned } from '../../../src/tls/self-signed'
import { startCli } from '../../helpers/auth/cli'
import { servedFingerprint } from '../../helpers/auth/tls-probe'

const d = requireDaemon(t)


if (d !== undefined) {
  t.test('first start, reload, shutdown, second start', async t => {
    const label = testLabel(__filename)
    t.teardown(async () => { await cleanupLabel(label) })
    const dataDir = join(mkdtempSync(join(tmpdir(), 'dgw-start-')), 'data')
    const port = await freePort()
    const env = { GATEWAY_UPSTREAM: d.url, GATEWAY_DATA_DIR: dataDir, GATEWAY_LISTEN: `127.0.0.1:${port}` }

    const first = await startCli(t, env)
    const banner = first.stderr()
    t.equal(first.url, `https://127.0.0.1:${port}`, 'HTTPS by default')
    const token = (/admin token \(sub admin, scope admin, expires in 1d; shown once\):\ndocker-gateway: +(\S+)\n/.exec(banner) ?? [])[1] as string
    t.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'one admin token is printed')
    const fingerprint = (/TLS SHA-256 fingerprint: ([0-9A-F:]{95})\n/.exec(banner) ?? [])[1] as string
    t.ok(fingerprint, 'the fingerprint is printed')

    const certFile = join(dataDir, 'tls', 'cert.pem')
    const certPem = readFileSync(certFile, 'utf8')
    const cert = new X509Certificate(certPem)
    t.equal(cert.fingerprint256, fingerprint, 'the printed fingerprint is the certificate\'s')
    for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', `DNS:${hostname()}`]) {
      t.ok(cert.subjectAltName?.split(', ').includes(name), `SAN ${name}`)
    }
    t.equal(statSync(join(dataDir, 'jwt-secret')).mode & 0o777, 0o600, 'secret: mode 0600')
    t.equal(statSync(join(dataDir, 'tls', 'key.pem')).mode & 0o777, 0o600, 'key: mode 0600')
    t.match(banner, `try: curl --cacert ${certFile} -H "Authorization: Bearer $TOKEN" ${first.url}/containers/json`)

    const agent = new Agent({ connect: { ca: certPem } })
    t.teardown(async () => { await agent.close() })
    const auth = { authorization: `Bearer ${token}` }
    const list = await request(`${first.url}/containers/json`, { dispatcher: agent, headers: auth })
    t.equal(list.statusCode, 200, 'the printed token and certificate list containers')
    t.ok(Array.isArray(await list.body.json()))
    const byName = await request(`https://localhost:${port}/_ping`, { dispatcher: agent, headers: auth })
    t.equal(await byName.body.text(), 'OK', 'https://localhost verifies too')
    const untrusting = new Agent()
    t.teardown(async () => { await untrusting.close() })
    await t.rejects(request(`${first.url}/_ping`, { dispatcher: untrusting }), 'without the certificate as CA: refused')
    t.notOk(first.stdout().includes(token.split('.')[2] as string), 'the token is not in the log output')
    t.match(first.stdout(), /"principal":"admin","auth":"jwt"/, 'requests are audited on stdout')

    // A container with a followed log stream, open across the reload and the shutdown.
    const created = await request(`${first.url}/containers/create`, {
      method: 'POST', dispatcher: agent, headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ Image: d.image, Cmd: ['sh', '-c', 'while true; do echo tick; sleep 1; done'], Labels: label.labels })
    })
    const { Id: id } = await created.body.json() as { Id: string }
    const started = await request(`${first.url}/containers/${id}/start`, { method: 'POST', dispatcher: agent, headers: auth })
    t.equal(started.statusCode, 204)

    // SIGHUP: a new certificate in place of the old one is served without a restart.
    const fresh = await ensureSelfSigned(mkdtempSync(join(tmpdir(), 'dgw-fresh-')))
    copyFileSync(fresh.keyFile, join(dataDir, 'tls', 'key.pem'))
    copyFileSync(fresh.certFile, certFile)
    first.child.kill('SIGHUP')
    const freshPem = readFileSync(certFile, 'utf8')
    await waitFor(async () => await servedFingerprint(port, freshPem) === fresh.fingerprint, 10_000, 100)
    t.pass('SIGHUP: the new certificate is served')
    t.equal(first.child.exitCode, null, 'and the gateway is still running')

    const agent2 = new Agent({ connect: { ca: freshPem } })
    t.teardown(async () => { await agent2.close() })
    const follow = await request(`${first.url}/containers/${id}/logs?follow=1&stdout=1`, { dispatcher: agent2, headers: auth })
    t.equal(follow.statusCode, 200)
    let streamEnded = false
    const drained = (async () => { try { for await (const _ of follow.body) { /* ticks */ } } catch {} streamEnded = true })()

    const signalled = Date.now()
    first.child.kill('SIGTERM')
    const code = await first.exited
    const took = Date.now() - signalled
    t.equal(code, 0, 'SIGTERM: exit 0')
    t.ok(took < 12_000, `the open stream did not hold the shutdown (${took} ms)`)
    await drained
    t.ok(streamEnded, 'the follow stream was ended')
    t.match(first.stdout(), /"signal":"SIGTERM","msg":"shutting down"/)

    const second = await startCli(t, env)
    t.notMatch(second.stderr(), /admin token/, 'second start: no token printed')
    t.match(second.stderr(), `JWT secret: ${join(dataDir, 'jwt-secret')}\n`)
    t.match(second.stderr(), `TLS SHA-256 fingerprint: ${fresh.fingerprint}\n`, 'the certificate in the data folder is kept')
    const again = await request(`${second.url}/_ping`, { dispatcher: agent2, headers: auth })
    t.equal(await again.body.text(), 'OK', 'the first admin token still works: same secret')
  })
}
