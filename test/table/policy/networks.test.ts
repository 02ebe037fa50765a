import t from 'tap'
import { PolicyConfigError, resolvePolicyConfig } from '../../../src/policy/config'
import { checkAllowedNetworks, checkNetworks } from '../../../src/policy/networks'

/**
 * Rule `network` (issue 10 review, networks): a container joins only the
 * default bridge, none, a container of its owner's (container-ref) or a
 * network the operator lists; DNS names and links only there, since on a
 * shared network they take over another member's service name.
 */

const listed = { allowedNetworks: ['shared', 'my.net'] }
const none = { allowedNetworks: [] }
const body = (mode: string | undefined, endpoints?: Record<string, unknown>): Record<string, unknown> => ({
  Image: 'x',
  ...(mode === undefined ? {} : { HostConfig: { NetworkMode: mode } }),
  ...(endpoints === undefined ? {} : { NetworkingConfig: { EndpointsConfig: endpoints } })
})

const CASES: Array<{ name: string, body: Record<string, unknown>, rules?: { allowedNetworks: string[] }, fields: string[] }> = [
  { name: 'no network settings', body: body(undefined), fields: [] },
  { name: 'NetworkMode ""', body: body(''), fields: [] },
  { name: 'NetworkMode default', body: body('default'), fields: [] },
  { name: 'NetworkMode bridge', body: body('bridge'), fields: [] },
  { name: 'NetworkMode none', body: body('none'), fields: [] },
  { name: 'NetworkMode container:<x> (a container reference, judged by container-ref)', body: body('container:web'), fields: [] },
  { name: 'NetworkMode host (judged by host-namespace)', body: body('host'), fields: [] },
  { name: 'NetworkMode HOST (judged by host-namespace)', body: body('HOST'), fields: [] },
  { name: 'NetworkMode a user-defined network', body: body('net-x'), fields: ['HostConfig.NetworkMode'] },
  { name: 'NetworkMode a listed network', body: body('shared'), rules: listed, fields: [] },
  { name: 'NetworkMode a listed network in another case', body: body('Shared'), rules: listed, fields: ['HostConfig.NetworkMode'] },
  { name: 'NetworkMode a listed name with a trailing space', body: body('shared '), rules: listed, fields: ['HostConfig.NetworkMode'] },
  { name: 'NetworkMode a full network ID', body: body('a'.repeat(64)), rules: listed, fields: ['HostConfig.NetworkMode'] },
  { name: 'NetworkMode Default (a user network name to dockerd)', body: body('Default'), fields: ['HostConfig.NetworkMode'] },
  { name: 'EndpointsConfig of the CLI (default, null lists)', body: body('default', { default: { Aliases: null, Links: null, DNSNames: null } }), fields: [] },
  { name: 'EndpointsConfig bridge and none with empty lists', body: body('bridge', { bridge: { Aliases: [] }, none: {} }), fields: [] },
  { name: 'EndpointsConfig a user-defined network', body: body('', { 'net-x': { Aliases: ['bsrv', 'db'] } }), fields: ['NetworkingConfig.EndpointsConfig["net-x"]'] },
  { name: 'EndpointsConfig host', body: body('', { host: {} }), fields: ['NetworkingConfig.EndpointsConfig.host'] },
  { name: 'EndpointsConfig container:web', body: body('', { 'container:web': {} }), fields: ['NetworkingConfig.EndpointsConfig["container:web"]'] },
  { name: 'NetworkMode and EndpointsConfig both name an unlisted network', body: body('net-x', { 'net-x': {} }), fields: ['HostConfig.NetworkMode', 'NetworkingConfig.EndpointsConfig["net-x"]'] },
  { name: 'Aliases on bridge', body: body('bridge', { bridge: { Aliases: ['db'] } }), fields: ['NetworkingConfig.EndpointsConfig.bridge.Aliases'] },
  { name: 'DNSNames and Links on default', body: body('', { default: { DNSNames: ['db'], Links: ['web:w'] } }), fields: ['NetworkingConfig.EndpointsConfig.default.DNSNames', 'NetworkingConfig.EndpointsConfig.default.Links'] },
  { name: 'Aliases on none', body: body('none', { none: { Aliases: ['db'] } }), fields: ['NetworkingConfig.EndpointsConfig.none.Aliases'] },
  { name: 'Aliases, DNSNames, Links on a listed network', body: body('shared', { shared: { Aliases: ['db'], DNSNames: ['db'], Links: ['web:w'] }, 'my.net': { Aliases: ['x'] } }), rules: listed, fields: [] },
  { name: 'a listed network plus an unlisted one', body: body('shared', { shared: {}, other: {} }), rules: listed, fields: ['NetworkingConfig.EndpointsConfig.other'] }
]

for (const c of CASES) {
  t.test(c.name, async t => {
    const v = checkNetworks(c.body, c.rules ?? none)
    t.same(v.map(x => x.field), c.fields)
    for (const x of v) {
      t.equal(x.rule, 'network')
      t.ok(x.message.startsWith(x.field), `the message names the field: ${x.message}`)
    }
  })
}

t.test('the message lists what is allowed', async t => {
  t.match(checkNetworks(body('net-x'), listed)[0]?.message, /allowedNetworks: "shared", "my\.net"/)
  t.match(checkNetworks(body('net-x'), none)[0]?.message, /allowedNetworks: none/)
})

t.test('allowedNetworks entries that dockerd could read as an ID prefix are refused at config load', async t => {
  t.same(checkAllowedNetworks(['shared', 'app_default', 'Cafe', 'net-1'], 'policy'), [])
  t.equal(checkAllowedNetworks(['cafe'], 'policy').length, 1)
  t.equal(checkAllowedNetworks(['0123456789ab'], 'policy').length, 1)
  t.equal(checkAllowedNetworks([''], 'policy').length, 1)
  t.throws(() => resolvePolicyConfig({ allowedNetworks: ['deadbeef'] }), PolicyConfigError)
  t.throws(() => resolvePolicyConfig({ overrides: [{ scopes: ['x'], policy: { allowedNetworks: ['abc'] } }] }), PolicyConfigError)
  t.same(resolvePolicyConfig({ allowedNetworks: ['shared'] }).allowedNetworks, ['shared'])
  t.same(resolvePolicyConfig({}).allowedNetworks, [], 'default: no user-defined network')
})
