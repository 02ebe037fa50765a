import t from 'tap'
import { Agent, request } from 'undici'
import { startGateway } from '../../helpers/gateway'
import { requireDaemon } from '../../helpers/env'
import { testLabel, cleanupLabel } from '../../helpers/docker'

/** /metrics is scraped like Prometheus does and reflects what just happened. */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('metrics', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_RATE_LIMIT_MAX: '40', GATEWAY_RATE_LIMIT_WINDOW: '1 minute' })
    const token = gw.token({ sub: 'metrics-user', scope: 'containers:read containers:write' })
    const auth = { authorization: `Bearer ${token}` }
    const admin = { authorization: `Bearer ${gw.token({ sub: 'ops', scope: 'admin' })}` }
    const scrape = async (headers: Record<string, string> = admin) => {
      const res = await request(`${gw.url}/metrics`, { headers })
      return { status: res.statusCode, type: res.headers['content-type'], text: await res.body.text() }
    }
    const value = (text: string, line: RegExp): number => Number(line.exec(text)?.[1] ?? 'NaN')

    await (await request(`${gw.url}/containers/json`, { headers: auth })).body.dump()
    await (await request(`${gw.url}/containers/json`, { headers: { authorization: 'Bearer nope' } })).body.dump()
    const denied = await request(`${gw.url}/containers/create`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ Image: d.image, Labels: label.labels, HostConfig: { Privileged: true } })
    })
    t.equal(denied.statusCode, 403)
    await denied.body.dump()

    const created = await request(`${gw.url}/containers/create`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ Image: d.image, Cmd: ['sleep', '300'], Labels: label.labels })
    })
    const id = ((await created.body.json()) as { Id: string }).Id
    await (await request(`${gw.url}/containers/${id}/start`, { method: 'POST', headers: auth })).body.dump()

    // Hold one stream open while scraping.
    const client = new Agent()
    const stream = await request(`${gw.url}/containers/${id}/stats?stream=1`, { headers: auth, dispatcher: client })
    t.equal(stream.statusCode, 200)

    t.equal((await scrape({})).status, 401, 'no token: 401 like any other route')
    t.equal((await scrape(auth)).status, 403, 'a non-admin user token: 403')
    const m = await scrape()
    t.equal(m.status, 200)
    t.match(m.type, 'text/plain')
    t.match(m.text, /dgw_requests_total\{route="GET \/containers\/json",method="GET",status="200",host="default"\} 1/)
    t.match(m.text, /dgw_requests_total\{route="POST \/containers\/create",method="POST",status="403",host=""\} 1/)
    t.equal(value(m.text, /dgw_policy_denials_total\{rule="privileged"\} (\d+)/), 1)
    t.ok(value(m.text, /dgw_auth_failures_total\{reason="[^"]+"\} (\d+)/) >= 1, 'auth failure counted by reason')
    t.equal(value(m.text, /dgw_open_streams\{host="default"\} (\d+)/), 1, 'the open stats stream')
    t.ok(value(m.text, /dgw_upstream_response_seconds_count\{host="default"\} (\d+)/) >= 3, 'upstream latency histogram')
    t.notMatch(m.text, id, 'no container ids as labels')
    t.notMatch(m.text, 'metrics-user', 'no principals as labels')

    await client.destroy()
    const after = await scrape()
    t.equal(value(after.text, /dgw_open_streams\{host="default"\} (\d+)/), 0, 'stream closed')

    // Exhaust the rate limit and see the rejections counted.
    let limited = 0
    for (let i = 0; i < 45; i++) {
      const r = await request(`${gw.url}/_ping`, { headers: auth })
      await r.body.dump()
      if (r.statusCode === 429) limited++
    }
    t.ok(limited > 0, 'the limit was reached')
    t.equal(value((await scrape()).text, /dgw_rate_limited_total (\d+)/), limited)
  })

  t.test('metrics behind their own token', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url, GATEWAY_METRICS_TOKEN: 'scrape-secret' })
    const none = await request(`${gw.url}/metrics`)
    t.equal(none.statusCode, 401)
    t.same(await none.body.json(), { message: 'the metrics endpoint needs its bearer token' })
    const user = await request(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${gw.token()}` } })
    t.equal(user.statusCode, 401, 'a user token is not the metrics token')
    await user.body.dump()
    const ok = await request(`${gw.url}/metrics`, { headers: { authorization: 'Bearer scrape-secret' } })
    t.equal(ok.statusCode, 200)
    t.match(await ok.body.text(), 'dgw_requests_total')
  })
}
