import { spawn } from 'node:child_process'
import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { cleanupLabel, testLabel } from '../../helpers/docker'
import { sleep, waitFor } from '../../helpers/wait'
import { cleanEnv, describeRun, dockerConfigDir, runProcess, USER_SCOPES } from '../../helpers/clients/clients'

/**
 * Issue 13 item 4, on the real app against the real daemon: `docker events`
 * through the gateway shows a principal its own containers' events only,
 * while another principal acts at the same time; a filter naming the other's
 * container shows nothing; `type` other than container is refused; an admin
 * sees everything. The daemon decides with the filters the gateway adds
 * (src/ownership/events.ts), so what the CLI prints is the proof.
 */

const DOCKER = '/usr/local/bin/docker'
/** Debian's python3-docker (docker-py), not a pyenv python earlier on PATH. */
const PYTHON = '/usr/bin/python3'
/** docker-py's client.events() over a closed window, one JSON event per line. */
const EVENTS_PY = `
import json, sys, docker
url, token, since, until = sys.argv[1:5]
client = docker.DockerClient(base_url=url, version='1.41', timeout=60)
client.api.headers['Authorization'] = 'Bearer ' + token
for event in client.events(since=int(since), until=int(until), decode=True):
    print(json.dumps(event))
`
const OWNER = 'docker-gateway.owner'

interface Event { Type: string, Action: string, Actor: { ID: string, Attributes: Record<string, string> } }

/** `docker events --format '{{json .}}'` left running: its events as they arrive, until stop(). */
function watchEvents (env: NodeJS.ProcessEnv, args: string[]): { events: Event[], text: () => string, stop: () => Promise<void> } {
  const child = spawn(DOCKER, ['events', '--format', '{{json .}}', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const events: Event[] = []
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8')
    const lines = out.split('\n')
    out = lines.pop() as string
    for (const line of lines) if (line.trim() !== '') events.push(JSON.parse(line) as Event)
  })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString('utf8') })
  const closed = new Promise<void>(resolve => { child.on('close', () => { resolve() }) })
  return {
    events,
    text: () => JSON.stringify(events) + err,
    stop: async () => { child.kill('SIGTERM'); await closed }
  }
}

const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('events, owned', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const suffix = `${process.pid}-${label.value.slice(-8)}`
    const who = { alice: `alice-${suffix}`, bob: `bob-${suffix}` }
    const tokens = {
      alice: gw.token({ sub: who.alice, scope: USER_SCOPES }),
      bob: gw.token({ sub: who.bob, scope: USER_SCOPES }),
      admin: gw.token({ sub: 'root', scope: 'admin' })
    }
    type Who = keyof typeof tokens
    const envs = {} as Record<Who, NodeJS.ProcessEnv>
    for (const w of Object.keys(tokens) as Who[]) envs[w] = cleanEnv({ DOCKER_HOST: `tcp://127.0.0.1:${gw.port}`, DOCKER_CONFIG: await dockerConfigDir(t, tokens[w]) })
    const cli = async (w: Who, args: string[]) => await runProcess(DOCKER, args, { env: envs[w], timeoutMs: 60_000 })
    const raw = async (w: Who, query: string) => {
      const res = await request(`${gw.url}/events?${query}`, { headers: { authorization: `Bearer ${tokens[w]}` } })
      const text = await res.body.text()
      return { status: res.statusCode, text, lines: res.statusCode === 200 ? text.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Event) : [] }
    }
    const name = { alice: `${label.value}-alice`, bob: `${label.value}-bob` }
    const ids = { alice: '', bob: '' }
    /** A whole life through the CLI: run -d, stop, rm. */
    const live = async (w: 'alice' | 'bob') => {
      const run = await cli(w, ['run', '-d', '--name', name[w], '--label', label.filter, d.image, 'sleep', '300'])
      t.equal(run.code, 0, describeRun(run))
      ids[w] = run.stdout.trim()
      for (const args of [['stop', '-t', '1', name[w]], ['rm', name[w]]]) {
        const r = await cli(w, args)
        t.equal(r.code, 0, `${w}: docker ${args.join(' ')}: ${describeRun(r)}`)
      }
    }

    const since = Math.floor(Date.now() / 1000) - 1
    // --since replays what happened between it and the subscription, so nothing is lost to the race.
    const aliceWatch = watchEvents(envs.alice, ['--since', String(since)])
    const adminWatch = watchEvents(envs.admin, ['--since', String(since), '--filter', `label=${label.filter}`])
    t.teardown(async () => { await aliceWatch.stop(); await adminWatch.stop() })
    await Promise.all([live('alice'), live('bob')])
    const destroyed = (events: Event[], id: string) => events.some(e => e.Actor.ID === id && e.Action === 'destroy')
    await waitFor(() => destroyed(adminWatch.events, ids.alice) && destroyed(adminWatch.events, ids.bob), 30_000)
    await waitFor(() => destroyed(aliceWatch.events, ids.alice), 30_000)
    // The daemon publishes each event to every subscriber at once: bob's, if they were to come, are here by now.
    await sleep(500)
    await aliceWatch.stop()
    await adminWatch.stop()
    const until = Math.ceil(Date.now() / 1000) + 1

    await t.test('docker events: alice sees her container\'s life and nothing of bob\'s', async t => {
      const mine = aliceWatch.events.filter(e => e.Actor.ID === ids.alice).map(e => e.Action)
      for (const action of ['create', 'start', 'kill', 'die', 'stop', 'destroy']) t.ok(mine.includes(action), `${action} of her container`)
      t.ok(aliceWatch.events.every(e => e.Type === 'container' && e.Actor.Attributes[OWNER] === who.alice), 'every event is one of her own containers\'')
      t.notOk(aliceWatch.text().includes(ids.bob), 'bob\'s id appears nowhere')
      t.notOk(aliceWatch.text().includes(name.bob), 'nor his container\'s name')
    })

    await t.test('docker-py client.events(): alice, the same window, her container only', async t => {
      const r = await runProcess(PYTHON, ['-c', EVENTS_PY, gw.url.replace('http:', 'tcp:'), tokens.alice, String(since), String(until)], { env: cleanEnv(), timeoutMs: 60_000 })
      t.equal(r.code, 0, describeRun(r))
      const events = r.stdout.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Event)
      t.ok(events.some(e => e.Actor.ID === ids.alice && e.Action === 'destroy'), 'her container\'s destroy')
      t.ok(events.every(e => e.Type === 'container' && e.Actor.Attributes[OWNER] === who.alice), 'only her own containers\' events')
      t.notOk(r.stdout.includes(ids.bob), 'bob\'s id appears nowhere')
    })

    await t.test('an admin sees both principals\' events', async t => {
      const actors = new Set(adminWatch.events.map(e => e.Actor.ID))
      t.ok(actors.has(ids.alice) && actors.has(ids.bob), 'alice\'s and bob\'s containers')
      t.ok(adminWatch.events.some(e => e.Actor.Attributes[OWNER] === who.bob && e.Action === 'die'))
    })

    await t.test('a container filter naming bob\'s container shows alice nothing; the admin, with the same window, sees it', async t => {
      const window = ['--since', String(since), '--until', String(until)]
      const aliceAsks = await cli('alice', ['events', ...window, '--format', '{{json .}}', '--filter', `container=${name.bob}`])
      t.equal(aliceAsks.code, 0, describeRun(aliceAsks))
      t.equal(aliceAsks.stdout, '', 'nothing of bob\'s')
      const adminAsks = await cli('admin', ['events', ...window, '--format', '{{json .}}', '--filter', `container=${name.bob}`])
      t.equal(adminAsks.code, 0, describeRun(adminAsks))
      t.match(adminAsks.stdout, ids.bob, 'the daemon still holds bob\'s events: alice\'s empty answer is the filter\'s doing')
      const hers = await cli('alice', ['events', ...window, '--format', '{{json .}}', '--filter', `container=${name.alice}`])
      t.match(hers.stdout, ids.alice, 'her own container by name, with --until ending the stream')
    })

    await t.test('the raw API: only container events, type=image refused, the owner label cannot be widened', async t => {
      const window = `since=${since}&until=${until}`
      const all = await raw('alice', window)
      t.equal(all.status, 200, all.text)
      t.ok(all.lines.length > 0)
      t.ok(all.lines.every(e => e.Type === 'container' && e.Actor.Attributes[OWNER] === who.alice), 'only her containers\' events')
      const f = (filters: unknown) => `${window}&filters=${encodeURIComponent(JSON.stringify(filters))}`
      for (const type of [['image'], ['container', 'image'], ['network'], ['daemon']]) {
        const res = await raw('alice', f({ type }))
        t.equal(res.status, 403, `type=${type.join(',')}`)
        t.match(JSON.parse(res.text).message, /not visible to this token: only its own containers' events are \(type=container\)/)
      }
      const other = await raw('alice', f({ label: [`${OWNER}=${who.bob}`], type: ['container'] }))
      t.equal(other.status, 200)
      t.same(other.lines, [], 'a label filter naming bob as owner: ANDed with hers, nothing')
      const byId = await raw('alice', f({ container: [ids.bob] }))
      t.same(byId.lines, [], 'bob\'s container by id: nothing')
      const admin = await raw('admin', f({ type: ['container', 'image'], label: [label.filter] }))
      t.equal(admin.status, 200, 'an admin may ask for any type')
      t.ok(admin.lines.some(e => e.Actor.ID === ids.bob))
      const cliImage = await cli('alice', ['events', '--since', String(since), '--until', String(until), '--filter', 'type=image'])
      t.not(cliImage.code, 0)
      t.match(cliImage.stderr, 'not visible to this token')
    })

    await t.test('since and until outside their form or order are refused before the daemon', async t => {
      const cases: Array<[string, RegExp]> = [
        ['since=10m', /"since": expected unix seconds/],
        ['until=2030-01-01T00:00:00Z', /"until": expected unix seconds/],
        ['since=-1', /"since": expected unix seconds/],
        ['until=99999999999', /"until": expected unix seconds/],
        [`since=${until}&until=${since}`, /`since` time \(\d+\) cannot be after `until` time \(\d+\)/],
        [`filters=${encodeURIComponent('{"status":["running"]}')}`, /invalid filter 'status'/]
      ]
      for (const [query, message] of cases) {
        for (const w of ['alice', 'admin'] as const) {
          const res = await raw(w, query)
          t.equal(res.status, 400, `${w}: ${query}`)
          t.match(JSON.parse(res.text).message, message)
        }
      }
    })
  })
}
