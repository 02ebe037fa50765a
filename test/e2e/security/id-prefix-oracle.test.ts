import crypto from 'node:crypto'
import t from 'tap'
import { request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { docker, testLabel, cleanupLabel } from '../../helpers/docker'

/**
 * Issue 10 finding 4: an id prefix that only other principals' containers
 * share answered the daemon's 500 "Multiple IDs found with provided prefix",
 * while anything else the caller does not own answered 404 -- an existence
 * oracle. A reference that does not resolve to one of the caller's own
 * containers must answer exactly as a missing one, and a prefix shared by an
 * own and a foreign container must reach the own one.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('id prefixes reveal nothing about other principals', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const all = 'containers:read containers:write containers:export containers:exec'
    // Principal names unique to this run: other files on the shared daemon use alice/bob.
    const run = crypto.randomBytes(3).toString('hex')
    const tokens = { a: gw.token({ sub: `a-${run}`, scope: all }), b: gw.token({ sub: `b-${run}`, scope: all }) }
    const call = async (who: 'a' | 'b', method: 'GET' | 'POST', path: string, json?: unknown) => {
      const res = await request(gw.url + path, {
        method,
        headers: { authorization: `Bearer ${tokens[who]}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: json !== undefined ? JSON.stringify(json) : undefined
      })
      const text = await res.body.text()
      return { status: res.statusCode, text, type: res.headers['content-type'] }
    }
    const create = async (who: 'a' | 'b'): Promise<string> => {
      const res = await call(who, 'POST', '/containers/create', { Image: d.image, Cmd: ['true'], Labels: label.labels })
      if (res.status !== 201) throw new Error(`create answered ${res.status} ${res.text}`)
      return (JSON.parse(res.text) as { Id: string }).Id
    }
    /** The answer with the reference itself blanked out (the daemon echoes it in "No such container: <ref>"). */
    const shape = (ref: string, r: { status: number, text: string, type: unknown }) => ({ status: r.status, type: r.type, body: r.text.split(ref).join('<ref>') })
    const allIds = async (): Promise<string[]> => ((await docker<Array<{ Id: string }>>('/containers/json', { query: { all: true } })).body).map(c => c.Id)

    // The gateway takes references of two characters or more (match.ts
    // CONTAINER_REF), so the prefixes here are two hex digits. A and B create
    // in turns until two of B's containers share a prefix none of A's has,
    // and one of A's shares a prefix with one of B's.
    const aIds: string[] = []
    const bIds: string[] = []
    const p2 = (id: string): string => id.slice(0, 2)
    const count = (ids: string[], p: string): number => ids.filter(id => p2(id) === p).length
    const othersOnlyPrefix = (): string | undefined => bIds.map(p2).find(p => count(bIds, p) >= 2 && count(aIds, p) === 0)
    const sharedPrefix = (): string | undefined => aIds.map(p2).find(p => count(aIds, p) === 1 && count(bIds, p) >= 1)
    while (othersOnlyPrefix() === undefined || sharedPrefix() === undefined) {
      if (bIds.length > 150) throw new Error('no prefix collision after 150 containers each')
      if (sharedPrefix() === undefined) aIds.push(await create('a'))
      bIds.push(await create('b'))
    }
    const othersOnly = othersOnlyPrefix() as string
    const shared = sharedPrefix() as string
    const aShared = aIds.find(id => p2(id) === shared) as string
    t.comment(`A made ${aIds.length}, B made ${bIds.length}; prefix "${othersOnly}" is B's only, "${shared}" is A's and B's`)

    // The daemon itself finds the prefix ambiguous: that is what used to leak.
    const direct = await docker(`/containers/${othersOnly}/json`)
    t.not(direct.status, 200, 'the daemon cannot resolve the prefix B shares')
    t.not(direct.status, 404, `the daemon answers the ambiguity (${direct.status} ${direct.text.trim()})`)

    // A prefix of the same length that matches no container on the daemon at all.
    const taken = new Set((await allIds()).map(id => id.slice(0, 2)))
    const missing = [...Array(256).keys()].map(n => n.toString(16).padStart(2, '0')).find(p => !taken.has(p)) as string
    t.ok(missing, 'a free two-digit prefix')
    const missingAnswer = await call('a', 'GET', `/containers/${missing}/json`)
    t.equal(missingAnswer.status, 404)
    t.same(JSON.parse(missingAnswer.text), { message: `No such container: ${missing}` })
    const daemonMissing = await docker(`/containers/${missing}/json`)
    t.same(JSON.parse(missingAnswer.text), daemonMissing.body, "the gateway's 404 says what the daemon says")

    for (const route of [['GET', '/json'], ['GET', '/top'], ['POST', '/start'], ['POST', '/kill'], ['GET', '/logs?stdout=1']] as const) {
      const [method, tail] = route
      const base = shape(missing, await call('a', method, `/containers/${missing}${tail}`))
      const one = await call('a', method, `/containers/${othersOnly}${tail}`)
      t.same(shape(othersOnly, one), base, `${method} ${tail}: a prefix only B's containers share answers as a missing one`)
    }
    const b0 = bIds[0] as string
    t.same(shape(b0.slice(0, 12), await call('a', 'GET', `/containers/${b0.slice(0, 12)}/json`)), shape(missing, missingAnswer), "a unique prefix of B's container")

    await t.test("a prefix shared by A's and B's containers reaches A's own", async t => {
      t.not((await docker(`/containers/${shared}/json`)).status, 200, 'the daemon alone finds it ambiguous')
      const own = await call('a', 'GET', `/containers/${shared}/json`)
      t.equal(own.status, 200, 'answered')
      t.equal((JSON.parse(own.text) as { Id: string }).Id, aShared)
      const bShared = bIds.filter(id => p2(id) === shared)
      const bAnswer = await call('b', 'GET', `/containers/${shared}/json`)
      if (bShared.length === 1) {
        t.equal(bAnswer.status, 200, "and B's call reaches B's")
        t.equal((JSON.parse(bAnswer.text) as { Id: string }).Id, bShared[0])
      } else {
        t.not(bAnswer.status, 200, "B's own containers make it ambiguous for B")
        t.match(bAnswer.text, /multiple IDs found with provided prefix/i)
      }
    })

    await t.test("a prefix only the caller's own containers share is the daemon's ambiguity, and names nobody else's", async t => {
      const res = await call('b', 'GET', `/containers/${othersOnly}/json`)
      t.equal(res.status, direct.status, 'the status the daemon gives')
      t.same(JSON.parse(res.text), direct.body, 'and its words')
    })

    await t.test('the timing class: others-only prefix vs missing prefix (measured, for the report)', async t => {
      const time = async (ref: string): Promise<number> => {
        const t0 = performance.now()
        await call('a', 'GET', `/containers/${ref}/json`)
        return performance.now() - t0
      }
      const median = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number
      const ms: Record<string, number[]> = { missing: [], othersOnly: [] }
      for (let i = 0; i < 40; i++) {
        ms.missing?.push(await time(missing))
        ms.othersOnly?.push(await time(othersOnly))
      }
      t.comment(`median ms: missing ${median(ms.missing as number[]).toFixed(2)}, others-only ${median(ms.othersOnly as number[]).toFixed(2)}`)
      t.pass('measured')
    })
  })
}
