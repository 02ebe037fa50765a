// `docker-gateway start` as a child process, for what a first-time user sees:
// - the banner names each daemon by the address it reached and that daemon's
//   version, and says so when a daemon does not answer (the gateway starts anyway);
// - hosts given as bare URL strings in the config file;
// - the self-signed certificate names the machine's own addresses and the
//   GATEWAY_TLS_NAMES entries, so a client calling the gateway by the machine's
//   address (not 127.0.0.1) verifies it against that certificate.
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { daemonAddress, requireDaemon } from '../../helpers/env'
import { docker } from '../../helpers/docker'
import { freePort } from '../../helpers/net'
import { isDockerInterface } from '../../../src/tls/names'
import { runCli, startCli } from '../../helpers/auth/cli'

const d = requireDaemon(t)

/** This machine's IPv4 addresses that are not loopback: [address, interface]. */
function machineIPv4 (): Array<[string, string]> {
  return Object.entries(networkInterfaces()).flatMap(([name, infos]) =>
    (infos ?? []).filter(i => i.family === 'IPv4' && !i.internal).map(i => [i.address, name] as [string, string]))
}

if (d !== undefined) {
  t.test('banner: the daemons reached, their versions, one not reachable; the certificate names the machine', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'dgw-reach-'))
    const deadPort = await freePort()
    const local = daemonAddress(d)
    const config = join(dir, 'gateway.yaml')
    writeFileSync(config, `hosts:\n  local: ${local}\n  gone: tcp://127.0.0.1:${deadPort}\ndefaultHost: local\n`)
    const port = await freePort()
    // The addresses the CLI can see when it makes its certificate (other test runs' bridges come and go).
    const before = machineIPv4()
    const cli = await startCli(t, {
      GATEWAY_CONFIG: config,
      GATEWAY_DATA_DIR: join(dir, 'data'),
      GATEWAY_LISTEN: `0.0.0.0:${port}`,
      GATEWAY_TLS_NAMES: 'gw.internal.test, 198.51.100.20'
    })
    const banner = cli.stderr()
    const version = (await docker('/version')).body as { Version: string, ApiVersion: string }
    t.match(banner, `docker-gateway: daemon "local": ${local}, reached: Docker ${version.Version}, API ${version.ApiVersion}\n`, 'the daemon reached, by its address, and its version')
    t.match(banner, `docker-gateway: WARNING: daemon "gone": tcp://127.0.0.1:${deadPort} is not reachable (ECONNREFUSED); the gateway runs anyway`, 'the daemon that did not answer')

    const certPem = readFileSync(join(dir, 'data', 'tls', 'cert.pem'), 'utf8')
    const sans = new X509Certificate(certPem).subjectAltName?.split(', ') ?? []
    // A real interface's address, and the harness bridge's (other runs' bridges come and go meanwhile).
    const after = machineIPv4()
    const addresses = before.filter(([a]) => after.some(([b]) => b === a))
    const picks = [addresses.find(([, i]) => !isDockerInterface(i)), addresses.find(([, i]) => i === d.bridge)]
      .filter((p): p is [string, string] => p !== undefined)
    t.ok(picks.length > 0, `this machine has a non-loopback address: ${JSON.stringify(addresses)}`)
    for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'DNS:gw.internal.test', 'IP Address:198.51.100.20', ...picks.map(([a]) => `IP Address:${a}`)]) {
      t.ok(sans.includes(name), `SAN ${name}`)
    }

    const token = (/admin token [^\n]*\ndocker-gateway: +(\S+)\n/.exec(banner) ?? [])[1] as string
    const agent = new Agent({ connect: { ca: certPem } })
    t.teardown(async () => { await agent.close() })
    const auth = { authorization: `Bearer ${token}` }
    // By those addresses: verified against the printed certificate, and routed to the daemon.
    for (const [address, iface] of picks) {
      const res = await request(`https://${address}:${port}/hosts/local/version`, { dispatcher: agent, headers: auth })
      t.equal(res.statusCode, 200, `https://${address} (${iface}) verifies`)
      t.equal((await res.body.json() as { Version: string }).Version, version.Version, `https://${address}: the daemon answers`)
    }
    // The daemon that was down at start: the gateway answers for it with a Docker-shaped error.
    const gone = await request(`https://127.0.0.1:${port}/hosts/gone/_ping`, { dispatcher: agent, headers: auth })
    t.ok([502, 503].includes(gone.statusCode), `a call to the unreachable daemon: ${gone.statusCode}`)
    t.match(await gone.body.json(), { message: String })

    // SIGHUP re-reads the host list (src/cli.ts, plugins/hosts.ts): "gone" is dropped from the file, then from the gateway.
    writeFileSync(config, `hosts:\n  local: ${local}\ndefaultHost: local\n`)
    cli.child.kill('SIGHUP')
    const hostNames = async (): Promise<string[]> => {
      const res = await request(`https://127.0.0.1:${port}/hosts`, { dispatcher: agent, headers: auth })
      return (await res.body.json() as Array<{ Name: string }>).map(h => h.Name)
    }
    const deadline = Date.now() + 5000
    let names = await hostNames()
    while (names.includes('gone') && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 100))
      names = await hostNames()
    }
    t.same(names, ['local'], 'SIGHUP reloaded the host list')
    t.equal(cli.child.exitCode, null, 'and the gateway still runs')
  })

  t.test('a bad GATEWAY_TLS_NAMES entry stops the start with a clear error', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'dgw-reach-bad-'))
    const cli = runCli(['start'], { GATEWAY_UPSTREAM: d.url, GATEWAY_DATA_DIR: join(dir, 'data'), GATEWAY_LISTEN: `127.0.0.1:${await freePort()}`, GATEWAY_TLS_NAMES: 'gw.internal,gw_internal' })
    t.equal(await cli.exited, 2, 'exit 2')
    t.match(cli.stderr(), 'docker-gateway: invalid configuration: tlsNames (from GATEWAY_TLS_NAMES): "gw_internal": neither an IP address nor a DNS name')
  })
}
