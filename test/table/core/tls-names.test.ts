// The self-signed certificate's names: GATEWAY_TLS_NAMES checked at load with
// errors naming the bad entry, the machine's addresses (IPv6 link-local left
// out), and which names a kept certificate must hold.
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import type { NetworkInterfaceInfo } from 'node:os'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../../src/config/load'
import { checkTlsConfig } from '../../../src/tls/material'
import { badTlsName, isDockerInterface, machineAddresses, parseTlsNames } from '../../../src/tls/names'
import { certificateNames, ensureSelfSigned } from '../../../src/tls/self-signed'

const base = { GATEWAY_UPSTREAM: 'tcp://127.0.0.1:9' }

t.test('GATEWAY_TLS_NAMES: DNS names and IP addresses, comma-separated', async t => {
  t.same(parseTlsNames(undefined), [])
  t.same(parseTlsNames('gw.internal, 10.0.0.5,fd00::5 ,GW.Example.COM,,*.svc.example,gw.internal'),
    ['gw.internal', '10.0.0.5', 'fd00::5', 'gw.example.com', '*.svc.example'], 'trimmed, lower-cased, empty and repeated entries dropped')
  t.same(loadConfig({ ...base, GATEWAY_TLS_NAMES: 'gw.internal,10.0.0.5' }).tlsNames, 'gw.internal,10.0.0.5')
  const dir = mkdtempSync(join(tmpdir(), 'dgw-tls-names-'))
  const file = join(dir, 'c.yaml')
  writeFileSync(file, 'tlsNames: gw.internal, 192.0.2.10\n')
  t.equal(loadConfig({ ...base, GATEWAY_CONFIG: file }).tlsNames, 'gw.internal, 192.0.2.10', 'from the file too')
})

t.test('bad names are a clear configuration error', async t => {
  const bad: Array<[string, RegExp]> = [
    ['gw_internal', /"gw_internal": neither an IP address nor a DNS name/],
    ['https://gw.internal', /neither an IP address nor a DNS name/],
    ['gw internal', /neither an IP address nor a DNS name/],
    ['-gw.internal', /neither/],
    ['gw.*.internal', /neither/],
    ['*.com', /neither/],
    ['[::1]', /neither/],
    ['10.0.0.300', /"10.0.0.300": not a valid IP address/],
    ['10.0.0', /not a valid IP address/],
    ['fe80::1%eth0', /zone \(%\) cannot be in a certificate/],
    [`${'a'.repeat(64)}.example`, /neither/],
    [`${'a.'.repeat(127)}aa`, /at most 253 characters/]
  ]
  for (const [name, message] of bad) {
    t.ok(badTlsName(name), `${name}: refused`)
    t.throws(() => loadConfig({ ...base, GATEWAY_TLS_NAMES: `gw.ok,${name}` }), { name: 'ConfigError', message: /^invalid configuration: tlsNames \(from GATEWAY_TLS_NAMES\): / })
    t.throws(() => parseTlsNames(name), { message }, name)
  }
  t.type((() => { try { loadConfig({ ...base, GATEWAY_TLS_NAMES: 'a b' }) } catch (err) { return err } })(), ConfigError)
})

t.test('tlsNames only with the self-signed certificate', async t => {
  const cert = loadConfig({ ...base, GATEWAY_TLS_NAMES: 'gw.internal', GATEWAY_TLS_CERT: '/c.pem', GATEWAY_TLS_KEY: '/k.pem' })
  t.throws(() => { checkTlsConfig(cert) }, /tlsNames names the self-signed certificate; with tlsCert set/)
  const off = loadConfig({ ...base, GATEWAY_TLS_NAMES: 'gw.internal', GATEWAY_TLS: 'off' })
  t.throws(() => { checkTlsConfig(off) }, /TLS is off/)
  t.doesNotThrow(() => { checkTlsConfig(loadConfig({ ...base, GATEWAY_TLS_NAMES: 'gw.internal' })) })
})

const iface = (address: string, family: 'IPv4' | 'IPv6', scopeid = 0): NetworkInterfaceInfo => (family === 'IPv4'
  ? { address, family, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', internal: address.startsWith('127.'), cidr: null }
  : { address, family, netmask: 'ffff:ffff:ffff:ffff::', mac: '00:00:00:00:00:00', internal: address === '::1', cidr: null, scopeid })
const interfaces = {
  lo: [iface('127.0.0.1', 'IPv4'), iface('::1', 'IPv6')],
  eth0: [iface('192.0.2.2', 'IPv4'), iface('fd00::2', 'IPv6'), iface('fe80::fc:ff:fe00:1', 'IPv6', 4)],
  docker0: [iface('172.17.0.1', 'IPv4'), iface('fe80::42:1', 'IPv6', 5)],
  'br-0123456789ab': [iface('172.18.0.1', 'IPv4')],
  wg0: [iface('10.8.0.1', 'IPv4')]
}

t.test('the machine\'s addresses, without IPv6 link-local ones', async t => {
  t.same(machineAddresses(interfaces).map(a => a.address), ['127.0.0.1', '::1', '192.0.2.2', 'fd00::2', '172.17.0.1', '172.18.0.1', '10.8.0.1'])
  for (const name of ['docker0', 'docker_gwbridge', 'br-0123456789ab', 'br-dgw3', 'veth12ab34']) t.ok(isDockerInterface(name), name)
  for (const name of ['eth0', 'lo', 'wg0', 'bridge0', 'ens3']) t.notOk(isDockerInterface(name), name)
})

t.test('names of a new certificate, and the ones a kept certificate must hold', async t => {
  const n = certificateNames({ extra: ['gw.internal', '10.0.0.5'], host: 'build-7', interfaces })
  t.same(n.names, ['localhost', '127.0.0.1', '::1', 'build-7', 'gw.internal', '10.0.0.5', '192.0.2.2', 'fd00::2', '172.17.0.1', '172.18.0.1', '10.8.0.1'])
  t.same(n.required, ['localhost', '127.0.0.1', '::1', 'build-7', 'gw.internal', '10.0.0.5', '192.0.2.2', 'fd00::2', '10.8.0.1'],
    'Docker bridges\' addresses are named but never force a new certificate')
})

t.test('a certificate is kept while it holds the required names, replaced when one is missing', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'dgw-tls-keep-'))
  const first = await ensureSelfSigned(dir, { names: certificateNames({ host: 'build-7', interfaces, extra: ['*.svc.example'] }) })
  t.ok(first.created)
  const sans = new X509Certificate(readFileSync(first.certFile)).subjectAltName?.split(', ')
  t.same(sans, ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:build-7', 'DNS:*.svc.example',
    'IP Address:192.0.2.2', 'IP Address:FD00:0:0:0:0:0:0:2', 'IP Address:172.17.0.1', 'IP Address:172.18.0.1', 'IP Address:10.8.0.1'])

  // A new Docker network (and one gone) changes nothing; the fingerprint stays.
  const moreBridges = { ...interfaces, 'br-0123456789ab': undefined, 'br-fedcba987654': [iface('172.19.0.1', 'IPv4')] }
  const again = await ensureSelfSigned(dir, { names: certificateNames({ host: 'build-7', interfaces: moreBridges, extra: ['*.svc.example'] }) })
  t.equal(again.created, false, 'kept across Docker network changes')
  t.equal(again.fingerprint, first.fingerprint)
  // A new address on a real interface, or a new extra name: a new certificate.
  const renumbered = { ...interfaces, eth0: [iface('198.51.100.7', 'IPv4')] }
  const changed = await ensureSelfSigned(dir, { names: certificateNames({ host: 'build-7', interfaces: renumbered, extra: ['*.svc.example'] }) })
  t.ok(changed.created, 'a new machine address: made again')
  t.ok(new X509Certificate(readFileSync(changed.certFile)).checkIP('198.51.100.7'))
  const named = await ensureSelfSigned(dir, { names: certificateNames({ host: 'build-7', interfaces: renumbered, extra: ['*.svc.example', 'gw.internal'] }) })
  t.ok(named.created, 'a new GATEWAY_TLS_NAMES entry: made again')
})
