import crypto from 'node:crypto'
import t from 'tap'
import { cleanupLabel, docker, testLabel, containersLabelled } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startGateway } from '../../helpers/gateway'
import { send, writeConfig } from '../../helpers/policy/client'

/**
 * Issue 10 review, networks: any network could be joined, and a DNS alias let
 * principal A take over principal B's service name on B's user-defined
 * network (B's clients then resolve `bsrv` to A's container). Now a create
 * may name only the default bridge, none, its own container, or a network in
 * policy allowedNetworks, and Aliases/DNSNames/Links only on the latter.
 * Asserted on the daemon: no container of A's exists after a refusal; the
 * control (the network allowed) shows A's container on it with the alias, so
 * the probe would see a join.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  const scope = 'containers:read containers:write'
  // Not all hex digits: such a name could be read as a network ID prefix (config refuses it).
  const net = `dgw-shared-${crypto.randomBytes(3).toString('hex')}`
  const bName = `bsrv-${crypto.randomBytes(3).toString('hex')}`

  t.before(async () => {
    // Made directly on the daemon, as an operator (or B with its own access) would.
    // Internal: the test never sends traffic over it; the daemon picks a subnet free on this host.
    const created = await docker('/networks/create', { json: { Name: net, Driver: 'bridge', Internal: true, Labels: label.labels } })
    if (created.status !== 201) throw new Error(`network create: ${created.status} ${created.text}`)
    const b = await docker(`/containers/create?name=${bName}`, { json: { Image: d.image, Cmd: ['sleep', '60'], Labels: { ...label.labels, 'docker-gateway.owner': 'bob' }, HostConfig: { NetworkMode: net }, NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: ['bsrv'] } } } } })
    if (b.status !== 201) throw new Error(`B's container: ${b.status} ${b.text}`)
  })
  t.teardown(async () => {
    await cleanupLabel(label)
    await docker(`/networks/${net}`, { method: 'DELETE' })
  })

  /** A's containers (owner alice) of one case, as the daemon lists them. */
  const aliceOn = async (marker: string): Promise<string[]> => await containersLabelled(label.filter, 'docker-gateway.owner=alice', `dgw.case=${marker}`)

  const body = (marker: string, extra: Record<string, unknown>): Record<string, unknown> =>
    ({ Image: d.image, Cmd: ['sleep', '60'], Labels: { ...label.labels, 'dgw.case': marker }, ...extra })

  t.test('A cannot join B\'s network, by NetworkMode or by EndpointsConfig, nor take its name on the default bridge', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'alice', scope })
    const attempts: Array<[string, Record<string, unknown>, RegExp]> = [
      ['network-mode', { HostConfig: { NetworkMode: net } }, /^policy denied: HostConfig\.NetworkMode=".*" is not allowed .*\(rule: network\)$/],
      ['network-mode-aliases', { HostConfig: { NetworkMode: net }, NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: ['bsrv', 'db'] } } } }, /^policy denied: HostConfig\.NetworkMode=.*\(rule: network\)$/],
      ['endpoints-key', { HostConfig: { NetworkMode: 'bridge' }, NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: ['bsrv'] } } } }, /^policy denied: NetworkingConfig\.EndpointsConfig\[".*"\]: joining network ".*" is not allowed .*\(rule: network\)$/],
      ['endpoints-key-only', { NetworkingConfig: { EndpointsConfig: { [net]: {} } } }, /\(rule: network\)$/],
      ['network-id', { HostConfig: { NetworkMode: (await docker(`/networks/${net}`)).body.Id as string } }, /HostConfig\.NetworkMode=.*\(rule: network\)$/],
      ['aliases-on-bridge', { NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['bsrv'] } } } }, /^policy denied: NetworkingConfig\.EndpointsConfig\.bridge\.Aliases is only allowed on a network listed .*\(rule: network\)$/]
    ]
    for (const [marker, extra, message] of attempts) {
      const res = await send(`${gw.url}/containers/create`, token, 'POST', body(marker, extra))
      t.equal(res.status, 403, `${marker}: 403`)
      t.match(res.json?.message, message, `${marker}: Docker-shaped message naming the field: ${res.json?.message as string}`)
      t.same(await aliceOn(marker), [], `${marker}: no container of A's on the daemon`)
    }
    const members = Object.values((await docker(`/networks/${net}`)).body.Containers ?? {}) as Array<{ Name: string }>
    t.same(members.map(m => m.Name), [], 'the network holds no endpoint of A\'s (B\'s is not started)')

    // Control: the default bridge still works through the gateway.
    const plain = await send(`${gw.url}/containers/create`, token, 'POST', body('plain', { HostConfig: { NetworkMode: 'default' } }))
    t.equal(plain.status, 201, plain.text)
  })

  t.test('control: with the network in allowedNetworks, A joins it with its aliases (what the refusals prevent)', async t => {
    const { file } = writeConfig(t, { policy: { allowedNetworks: [net] } })
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
    const token = gw.token({ sub: 'alice', scope })
    const res = await send(`${gw.url}/containers/create`, token, 'POST', body('allowed', { HostConfig: { NetworkMode: net }, NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: ['bsrv'] } } } }))
    t.equal(res.status, 201, res.text)
    const c = (await docker(`/containers/${res.json.Id as string}/json`)).body
    t.equal(c.HostConfig.NetworkMode, net, 'inspect: on the network')
    t.match(c.NetworkSettings.Networks[net].Aliases, ['bsrv'], 'inspect: with the alias')
    t.same(await aliceOn('allowed'), [res.json.Id], 'the container exists')

    const other = await send(`${gw.url}/containers/create`, token, 'POST', body('other', { HostConfig: { NetworkMode: `${net}-other` } }))
    t.equal(other.status, 403, 'a network not listed is still refused')
  })
}
