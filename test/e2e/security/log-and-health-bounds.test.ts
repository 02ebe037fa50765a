import t from 'tap'
import { cleanupLabel, docker, testLabel, containersLabelled } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startGateway } from '../../helpers/gateway'
import { send } from '../../helpers/policy/client'

/**
 * Issue 10 review, log size and probe rate: a create with no LogConfig got
 * the daemon's json-file driver with no rotation (one log file that grows on
 * the host's disk for ever), `max-size: 1000g, max-file: 1000000` was
 * accepted, a 1 ms health-check interval made the host start a process
 * every millisecond, and CpuShares/BlkioWeight could be raised above every
 * other container's. Asserted on the daemon: the injected LogConfig in
 * inspect (and `docker logs` still answering through the gateway), no
 * container after each refusal, an unchanged CpuShares after a refused update.
 */
const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })
  const scope = 'containers:read containers:write'

  const onDaemon = async (marker: string): Promise<string[]> => await containersLabelled(label.filter, `dgw.case=${marker}`)
  const body = (marker: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
    ({ Image: d.image, Cmd: ['sh', '-c', 'echo hello-from-logs'], Labels: { ...label.labels, 'dgw.case': marker }, ...extra })

  t.test('a create without LogConfig gets a rotating driver, and docker logs still answers', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'logs', scope })
    for (const [marker, extra, want] of [
      ['absent', {}, { Type: 'json-file', Config: { 'max-size': '20m', 'max-file': '5' } }],
      ['cli-empty', { HostConfig: { LogConfig: { Type: '', Config: {} } } }, { Type: 'json-file', Config: { 'max-size': '20m', 'max-file': '5' } }],
      ['json-file', { HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '50m' } } } }, { Type: 'json-file', Config: { 'max-size': '50m', 'max-file': '5' } }],
      ['local', { HostConfig: { LogConfig: { Type: 'local' } } }, { Type: 'local', Config: { 'max-size': '20m', 'max-file': '5' } }]
    ] as const) {
      const res = await send(`${gw.url}/containers/create`, token, 'POST', body(marker, extra))
      t.equal(res.status, 201, `${marker}: ${res.text}`)
      const id = res.json.Id as string
      t.same((await docker(`/containers/${id}/json`)).body.HostConfig.LogConfig, want, `${marker}: inspect shows the injected LogConfig`)
      t.equal((await send(`${gw.url}/containers/${id}/start`, token, 'POST')).status, 204)
      t.equal((await send(`${gw.url}/containers/${id}/wait`, token, 'POST')).status, 200)
      const logs = await send(`${gw.url}/containers/${id}/logs?stdout=1&stderr=1`, token, 'GET')
      t.equal(logs.status, 200)
      t.match(logs.text, /hello-from-logs/, `${marker}: docker logs reads the container's output`)
    }
  })

  t.test('oversized log rotation, a 1 ms health check and raised weights are refused with no container', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'logs', scope })
    const attempts: Array<[string, Record<string, unknown>, RegExp]> = [
      ['huge-log', { HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '1000g', 'max-file': '1000000' } } } }, /^policy denied: HostConfig\.LogConfig\.Config\["max-size"\]="1000g" is above the maximum "100m" .*\(rule: log-options\)$/],
      ['many-files', { HostConfig: { LogConfig: { Type: 'local', Config: { 'max-file': '1000000' } } } }, /^policy denied: HostConfig\.LogConfig\.Config\["max-file"\]="1000000" is above the maximum 10 .*\(rule: log-options\)$/],
      ['unlimited-log', { HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '-1' } } } }, /\(rule: log-options\)$/],
      ['health-1ms', { Healthcheck: { Test: ['CMD', 'true'], Interval: 1e6 } }, /^policy denied: Healthcheck\.Interval=1000000 ns is not allowed .*\(rule: healthcheck\)$/],
      ['health-start-1ms', { Healthcheck: { Test: ['CMD', 'true'], StartPeriod: 5e9, StartInterval: 1e6 } }, /Healthcheck\.StartInterval=.*\(rule: healthcheck\)$/],
      ['health-retries', { Healthcheck: { Test: ['CMD', 'true'], Retries: 1e6 } }, /Healthcheck\.Retries=1000000 .*\(rule: healthcheck\)$/],
      ['cpu-shares', { HostConfig: { CpuShares: 262144 } }, /^policy denied: HostConfig\.CpuShares=262144 is not allowed .*\(rule: resources\)$/],
      ['blkio-weight', { HostConfig: { BlkioWeight: 1000 } }, /^policy denied: HostConfig\.BlkioWeight=1000 .*\(rule: resources\)$/]
    ]
    for (const [marker, extra, message] of attempts) {
      const res = await send(`${gw.url}/containers/create`, token, 'POST', body(marker, extra))
      t.equal(res.status, 403, `${marker}: 403`)
      t.match(res.json?.message, message, `${marker}: ${res.json?.message as string}`)
      t.same(await onDaemon(marker), [], `${marker}: no container on the daemon`)
    }

    // Controls: the same fields within bounds reach the daemon as sent.
    const ok = await send(`${gw.url}/containers/create`, token, 'POST', body('within', { Healthcheck: { Test: ['CMD', 'true'], Interval: 2e9, Retries: 3 }, HostConfig: { CpuShares: 512, LogConfig: { Type: 'json-file', Config: { 'max-size': '100m', 'max-file': '10' } } } }))
    t.equal(ok.status, 201, ok.text)
    const c = (await docker(`/containers/${ok.json.Id as string}/json`)).body
    t.match(c.Config.Healthcheck, { Interval: 2e9, Retries: 3 })
    t.same(c.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '100m', 'max-file': '10' } })
    t.equal(c.HostConfig.CpuShares, 512)

    const raised = await send(`${gw.url}/containers/${ok.json.Id as string}/update`, token, 'POST', { CpuShares: 4096 })
    t.equal(raised.status, 403, 'an update cannot raise CpuShares')
    t.equal((await docker(`/containers/${ok.json.Id as string}/json`)).body.HostConfig.CpuShares, 512, 'CpuShares unchanged on the daemon')
  })
}
