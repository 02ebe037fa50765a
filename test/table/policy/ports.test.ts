import t from 'tap'
import { canonicalIp, checkPorts } from '../../../src/policy/ports'
import { defaultPolicyConfig } from '../../../src/policy/config'

/**
 * canonicalIp on odd inputs (issue 10 finding 7: `fe80::1%eth0` threw inside
 * the WHATWG URL parser and became a 500). It never throws; undefined means
 * "not an address dockerd would bind as given", which checkPorts refuses.
 */

const CASES: Array<[string, string | undefined]> = [
  ['', ''],
  ['127.0.0.1', '127.0.0.1'],
  ['0.0.0.0', '0.0.0.0'],
  ['::', '::'],
  ['::1', '::1'],
  ['0:0:0:0:0:0:0:1', '::1'],
  ['::FFFF:127.0.0.1', '127.0.0.1'],
  ['::ffff:7f00:1', '127.0.0.1'],
  ['::ffff:0.0.0.0', '0.0.0.0'],
  ['::127.0.0.1', '::7f00:1'],
  ['fe80::1%eth0', undefined],
  ['fe80::1%25eth0', undefined],
  ['fe80::1%', undefined],
  ['::1%lo', undefined],
  ['::ffff:127.0.0.1%lo', undefined],
  ['[::1]', undefined],
  ['[fe80::1%eth0]', undefined],
  ['127.0.0.01', undefined],
  ['0127.0.0.1', undefined],
  ['127.1', undefined],
  ['0x7f.0.0.1', undefined],
  ['127.0.0.1 ', undefined],
  [' ::1', undefined],
  ['localhost', undefined],
  ['1:2:3:4:5:6:7:8:9', undefined],
  ['::1'.padStart(200, '0'), undefined],
  ['1'.repeat(100000), undefined],
  ['\u0000', undefined],
  ['%', undefined]
]

t.test('canonicalIp table', async t => {
  for (const [input, expected] of CASES) {
    let got: string | undefined
    t.doesNotThrow(() => { got = canonicalIp(input) }, `${JSON.stringify(input.slice(0, 40))} does not throw`)
    t.equal(got, expected, `${JSON.stringify(input.slice(0, 40))} -> ${String(expected)}`)
  }
})

t.test('checkPorts refuses a scoped address as a policy violation, not an exception', async t => {
  const hc = { PortBindings: { '80/tcp': [{ HostIp: 'fe80::1%eth0', HostPort: '8080' }, { HostIp: '::ffff:127.0.0.1', HostPort: '8081' }] } }
  const v = checkPorts(hc, defaultPolicyConfig)
  t.same(v.map(x => [x.rule, x.field]), [['ports', 'HostConfig.PortBindings["80/tcp"][0].HostIp']])
  t.match(v[0]?.message, '"fe80::1%eth0" is not an allowed host address')
  t.same(checkPorts(hc, { ...defaultPolicyConfig, allowedHostIps: ['fe80::1%eth0', '::1', '127.0.0.1'] }).map(x => x.field),
    ['HostConfig.PortBindings["80/tcp"][0].HostIp'], 'a scoped address in the config matches nothing either')
})
