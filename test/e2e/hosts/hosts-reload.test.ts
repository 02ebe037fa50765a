import t from 'tap'
import { request } from 'undici'
import { engineRequest } from '../../harness/engine'
import { call, NO_DOCKERD, sleep, startDaemons, startFleet, until } from '../../helpers/hosts/fleet'

// reloadHosts() (what the CLI runs on SIGHUP: test/e2e/auth/cli-start-reach) re-reads
// the config file: a host added there is routed and checked,
// a removed one answers 404 at once while calls already in flight to it
// (here a follow stream) drain instead of being cut.
t.test('reloadHosts() reloads the host list', { skip: NO_DOCKERD }, async t => {
  const { gw, daemons, configFile, writeConfig } = await startFleet(t, ['a', 'b'])
  const [c] = Object.values(await startDaemons(t, ['c']))
  const a = daemons.a as NonNullable<typeof daemons.a>
  const b = daemons.b as NonNullable<typeof daemons.b>
  // The default loader re-reads GATEWAY_CONFIG from the environment, as the CLI does.
  const previous = process.env.GATEWAY_CONFIG
  process.env.GATEWAY_CONFIG = configFile
  t.teardown(() => { if (previous === undefined) delete process.env.GATEWAY_CONFIG; else process.env.GATEWAY_CONFIG = previous })
  const names = async (): Promise<string[]> => (await call(gw, '/hosts')).body.map((h: { Name: string }) => h.Name)
  t.same(await names(), ['a', 'b'])

  // A follow stream to b, open across the reload.
  const created = await engineRequest(b, '/containers/create', {
    query: { name: 'ticker' },
    json: { Image: b.image, Cmd: ['sh', '-c', 'while true; do echo tick; sleep 0.1; done'] }
  })
  t.equal(created.status, 201)
  await engineRequest(b, '/containers/ticker/start', { method: 'POST' })
  const follow = await request(`${gw.url}/hosts/b/containers/ticker/logs?follow=1&stdout=1`, { headers: { authorization: `Bearer ${gw.token()}` } })
  t.equal(follow.statusCode, 200)
  const chunks: Buffer[] = []
  follow.body.on('data', (chunk: Buffer) => chunks.push(chunk))

  writeConfig({ a, c: c! })
  void gw.app.reloadHosts()
  await until(async () => JSON.stringify(await names()) === '["a","c"]', 5000, 'the new host list')
  await until(async () => (await call(gw, '/hosts')).body.find((h: { Name: string }) => h.Name === 'c')?.State === 'up', 5000, 'c checked and up')

  t.match(await call(gw, '/hosts/b/containers/json'), { status: 404, body: { message: 'No such host: b' } })
  t.equal((await call(gw, '/hosts/c/containers/json')).status, 200, 'the added host is routed')
  const fleet = await call(gw, '/hosts/_all/containers/json?all=1')
  t.ok((fleet.body as Array<{ Host: string }>).every(x => x.Host === 'a' || x.Host === 'c'), 'the fleet list has a and c only')

  // The removed host's stream keeps flowing while its pool drains.
  const seen = chunks.length
  await sleep(600)
  t.ok(chunks.length > seen, `the open stream to b still flows after the reload (${seen} -> ${chunks.length} chunks)`)
  follow.body.destroy()

  // A config that no longer validates leaves the running list in force.
  const fs = await import('node:fs')
  fs.writeFileSync(configFile, 'hosts: { "Bad Name": { url: "tcp://127.0.0.1:1" } }\n')
  void gw.app.reloadHosts()
  await sleep(300)
  t.same(await names(), ['a', 'c'], 'an invalid file is ignored')

  // Add b back: used again.
  writeConfig({ a, b, c: c! })
  void gw.app.reloadHosts()
  await until(async () => (await call(gw, '/hosts/b/containers/ticker/json')).status === 200, 5000, 'b routed again')
})
