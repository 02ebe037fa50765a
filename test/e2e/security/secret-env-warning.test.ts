import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import crypto from 'node:crypto'
import t from 'tap'
import { request } from 'undici'
import { requireDaemon } from '../../helpers/env'
import { freePort } from '../../helpers/net'
import { mintToken } from '../../helpers/gateway'
import { waitFor } from '../../helpers/wait'
import { startCli } from '../../helpers/auth/cli'

/**
 * Issue 10, what to build 2: the gateway's own signing secret must not sit
 * where another process can read it. In the environment it is in
 * /proc/<pid>/environ for the life of the process (finding 1 printed every
 * host process's environment through `top`). `docker-gateway start` with
 * GATEWAY_JWT_SECRET warns once, at warn, naming GATEWAY_JWT_SECRET_FILE;
 * with the file, the secret is in neither the environment nor the log, and
 * it is the one that verifies tokens.
 */
const d = requireDaemon(t)

function environOf (pid: number): string {
  return readFileSync(`/proc/${pid}/environ`, 'latin1')
}

function logLines (stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)
}

if (d !== undefined) {
  const secret = crypto.randomBytes(32).toString('hex')

  t.test('GATEWAY_JWT_SECRET in the environment: one warning naming GATEWAY_JWT_SECRET_FILE', async t => {
    const port = await freePort()
    const cli = await startCli(t, {
      GATEWAY_UPSTREAM: d.url, GATEWAY_TLS: 'off', GATEWAY_LISTEN: `127.0.0.1:${port}`,
      GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), 'dgw-secret-env-')), GATEWAY_JWT_SECRET: secret
    })
    t.ok(environOf(cli.child.pid as number).includes(secret), 'the threat: the secret is readable in the process\'s /proc/<pid>/environ')
    const warnings = await waitFor(() => {
      const found = logLines(cli.stdout()).filter(l => typeof l.msg === 'string' && l.msg.includes('GATEWAY_JWT_SECRET'))
      return found.length > 0 ? found : undefined
    }, 10_000)
    t.equal(warnings.length, 1, 'one log line')
    const w = warnings[0] as Record<string, unknown>
    t.equal(w.level, 40, 'at warn')
    t.match(w.msg, /GATEWAY_JWT_SECRET_FILE/, 'naming GATEWAY_JWT_SECRET_FILE')
    t.match(w.msg, /\/proc\/<pid>\/environ/, 'and why')
    t.match(cli.stderr(), /WARNING: GATEWAY_JWT_SECRET is in the environment/, 'the banner says it too')
    t.notOk(cli.stdout().includes(secret) || cli.stderr().includes(secret), 'the warning does not print the secret')
    const res = await request(`http://127.0.0.1:${port}/_ping`, { headers: { authorization: `Bearer ${mintToken(secret, { sub: 'x', scope: 'containers:read' })}` } })
    t.equal(await res.body.text(), 'OK', 'the secret still works')
  })

  t.test('GATEWAY_JWT_SECRET_FILE: no warning, and the secret is nowhere in the environment', async t => {
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'dgw-secret-file-'))
    const file = join(dir, 'jwt-secret')
    writeFileSync(file, `${secret}\n`, { mode: 0o600 })
    const cli = await startCli(t, {
      GATEWAY_UPSTREAM: d.url, GATEWAY_TLS: 'off', GATEWAY_LISTEN: `127.0.0.1:${port}`,
      GATEWAY_DATA_DIR: join(dir, 'data'), GATEWAY_JWT_SECRET_FILE: file
    })
    const res = await request(`http://127.0.0.1:${port}/_ping`, { headers: { authorization: `Bearer ${mintToken(secret, { sub: 'x', scope: 'containers:read' })}` } })
    t.equal(await res.body.text(), 'OK', 'tokens signed with the file\'s secret are accepted')
    await waitFor(() => logLines(cli.stdout()).some(l => l.principal === 'x'), 10_000)
    t.notOk(environOf(cli.child.pid as number).includes(secret), 'the secret is not in /proc/<pid>/environ')
    t.notOk(logLines(cli.stdout()).some(l => typeof l.msg === 'string' && l.msg.includes('GATEWAY_JWT_SECRET')), 'no warning')
    t.notOk(cli.stderr().includes('GATEWAY_JWT_SECRET is in the environment'), 'no warning in the banner')
  })
}
