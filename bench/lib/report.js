'use strict'
/**
 * Turns a results JSON (bench/results/*.json) into docs/benchmarks.md: the tables,
 * the ratios, and the issue-7 targets with met/gap. Pure: results in, text out.
 */
const fs = require('node:fs')

const f = (x, d = 0) => (x === undefined || x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(d))
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN)
const x = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a')
const pct = (r) => (Number.isFinite(r) ? `${(r * 100).toFixed(0)} %` : 'n/a')

function table (head, rows) {
  // Right-align a column when its cells read as numbers (1234, 0.87×, +0.12, 56 %).
  const numeric = head.map((_, i) => i > 0 && rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+(\s*(×|%|ms|MB|µs))?$|^n\/a$|^—$/.test(String(r[i]).trim())))
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (numeric[i] ? ' ---: ' : ' --- ')).join('|')}|`]
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`)
  return lines.join('\n')
}

/**
 * The spread of a ratio over the repetitions of a matrix: the ratio in each
 * repetition (the paths of one repetition ran back to back), as "min–max".
 */
function repRange (m, c, num, den, key = 'rps', fn = (a, b) => a / b) {
  if (m?.cells === undefined) return ''
  const reps = [...new Set(m.cells.map((x) => x.rep))]
  const v = reps.map((r) => {
    const a = m.cells.find((x) => x.rep === r && x.c === c && x.path === num)?.[key]
    const b = m.cells.find((x) => x.rep === r && x.c === c && x.path === den)?.[key]
    return fn(a, b)
  }).filter(Number.isFinite)
  if (v.length < 2) return ''
  return `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}`
}

/** Each issue-12 target: measured value (median over repetitions, and its range), met / gap / not measured / no target (a figure shown for comparison). */
function evaluateTargets (res) {
  const out = []
  const fakeM = res.phases.fake
  const realM = res.phases.real
  const fake = fakeM?.summary
  const real = realM?.summary
  const exp = res.phases.export?.summary
  const st = res.phases.streams
  const fleet = res.phases.fleet
  const add = (target, measured, ok, note = '') => out.push({ target, measured, status: ok === null ? 'no target' : ok === undefined ? 'not measured' : ok ? 'met' : 'gap', note })
  const g = (s, c, p, k) => s?.[c]?.[p]?.[k]
  const range = (r) => r === '' ? '' : ` (runs ${r})`

  for (const c of [10, 100]) {
    const r = ratio(g(real, c, 'gateway', 'rps'), g(real, c, 'haproxy', 'rps'))
    add(`dockerd: gateway req/s ≥ 1.0× HAProxy at c=${c}`, x(r) + range(repRange(realM, c, 'gateway', 'haproxy')), Number.isFinite(r) ? r >= 1.0 : undefined)
  }
  for (const c of [10, 100]) {
    const r = ratio(g(real, c, 'gateway', 'rps'), g(real, c, 'direct', 'rps'))
    add(`dockerd: gateway req/s ≥ 0.9× direct at c=${c}`, x(r) + range(repRange(realM, c, 'gateway', 'direct')), Number.isFinite(r) ? r >= 0.9 : undefined)
  }
  {
    const d = g(real, 1, 'gateway', 'p50') - g(real, 1, 'direct', 'p50')
    add('dockerd: added p50 at c=1 ≤ 0.25 ms over direct', `+${f(d, 3)} ms` + range(repRange(realM, 1, 'gateway', 'direct', 'p50', (a, b) => a - b)), Number.isFinite(d) ? d <= 0.25 : undefined)
  }
  for (const c of [10, 100]) {
    const v = g(fake, c, 'gateway', 'proxyCpuUs')
    const r = repRange(fakeM, c, 'gateway', 'gateway', 'proxyCpuUs', (a) => a)
    add(`fake daemon: gateway CPU ≤ 90 µs/request (c=${c})`, `${f(v)} µs` + (r === '' ? '' : ` (runs ${r.split('–').map((n) => f(Number(n))).join('–')})`), Number.isFinite(v) ? v <= 90 : undefined, `HAProxy ${f(g(fake, c, 'haproxy', 'proxyCpuUs'))} µs`)
  }
  {
    const d = g(fake, 1, 'gateway', 'p50') - g(fake, 1, 'direct', 'p50')
    add('fake daemon: added p50 at c=1 over direct (for comparison)', `+${f(d, 3)} ms` + range(repRange(fakeM, 1, 'gateway', 'direct', 'p50', (a, b) => a - b)), null)
  }
  if (exp !== undefined) {
    const r = ratio(exp.gateway?.mibPerSec, exp.haproxy?.mibPerSec)
    const runs = res.phases.export.runs ?? []
    const spread = (path, k) => {
      const v = runs.filter((x) => x.path === path).map((x) => x[k]).filter(Number.isFinite)
      return v.length < 2 ? '' : ` (runs ${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)})`
    }
    add(`export (${res.phases.export.sizeMiB} MiB): gateway throughput ≥ 1.0× HAProxy`, x(r), Number.isFinite(r) ? r >= 1.0 : undefined, `gateway ${f(exp.gateway?.mibPerSec)} MiB/s, HAProxy ${f(exp.haproxy?.mibPerSec)} MiB/s`)
    const cpu = exp.gateway?.proxyCpuSecPerGiB
    add('export: gateway ≤ 1.0 CPU-s/GiB', `${f(cpu, 2)} CPU-s/GiB${spread('gateway', 'proxyCpuSecPerGiB')}`, Number.isFinite(cpu) ? cpu <= 1.0 : undefined, `HAProxy ${f(exp.haproxy?.proxyCpuSecPerGiB, 2)}`)
    const rss = exp.gateway?.peakRssMB
    add('export: gateway peak RSS ≤ 150 MB', `${f(rss)} MB`, Number.isFinite(rss) ? rss <= 150 : undefined)
  } else {
    for (const t of ['export: gateway throughput ≥ 1.0× HAProxy', 'export: gateway ≤ 1.0 CPU-s/GiB', 'export: gateway peak RSS ≤ 150 MB']) add(t, 'n/a', undefined)
  }
  if (st !== undefined && st.error === undefined) {
    const all = st.established === st.requested && st.delivering === st.requested
    add(`${st.requested} streams: all established and delivering`, `${st.established} established, ${st.delivering} delivering`, all)
    add(`${st.requested} streams: gateway RSS ≤ 200 MB while holding`, `${f(st.holdingRssMB)} MB`, st.holdingRssMB <= 200)
    add(`${st.requested} streams: RSS ≤ 256 MB through a mass disconnect`, `${f(Math.max(st.disconnectPeakRssMB, st.afterDisconnectRssMB))} MB peak, ${f(st.afterDisconnectRssMB)} MB after`, Math.max(st.disconnectPeakRssMB, st.afterDisconnectRssMB) <= 256)
    add(`${st.requested} streams: upstream streams left open = 0`, `${st.daemonStreamsLeft} streams`, st.daemonStreamsLeft === 0)
    // A stream's socket must go with it; only the short-call pool's few idle
    // keep-alive sockets (health checks, ownership look-ups) may remain.
    if (st.daemonIdleNeverUsed !== undefined) {
      add(`${st.requested} streams: no upstream socket left behind (open and never used)`, `${st.daemonIdleNeverUsed} of ${st.daemonSocketsLeft} open sockets`, st.daemonIdleNeverUsed === 0, 'counted by the daemon 3 s after; the rest are keep-alive sockets of finished short calls')
    } else {
      add(`${st.requested} streams: upstream sockets left open ≈ 0 (≤ 4 idle keep-alive)`, `${st.daemonSocketsLeft} sockets 3 s after`, st.daemonSocketsLeft <= 4, 'counted by the daemon')
    }
  } else {
    add('5,000 streams', 'n/a', undefined, st?.error ?? '')
  }
  const cores = res.phases.cores
  if (cores?.summary !== undefined) {
    for (const c of [10, 100]) {
      const r = ratio(g(cores.summary, c, 'gateway', 'rps'), g(cores.summary, c, 'haproxy', 'rps'))
      add(`all ${cores.cores} cores, dockerd: gateway (${cores.gatewayWorkers} workers) req/s vs HAProxy (${cores.haproxyThreads} threads) at c=${c}`, x(r) + range(repRange(cores, c, 'gateway', 'haproxy')), null, 'what each does with the whole machine')
    }
  }
  if (fleet?.available === true) {
    for (const s of fleet.sets) {
      if (s.hosts === 1) continue
      // Against the slowest host asked directly in the same run (the floor on
      // a busy machine), with a quarter of the gap to "sum" as the margin.
      const floor = Number.isFinite(s.slowestDirectP50) ? s.slowestDirectP50 : s.slowestMs
      const bound = floor + 0.25 * (s.sumMs - s.slowestMs)
      add(`fleet: ${s.hosts} hosts grows with the slowest (${s.slowestMs} ms), not the sum (${s.sumMs} ms)`, `p50 ${f(s.p50, 1)} ms (slowest host direct: ${f(floor, 1)} ms)`, s.p50 <= bound, `met if p50 ≤ ${f(bound, 1)} ms`)
    }
  } else {
    add('fleet: latency grows with the slowest host, not the sum', 'not available yet', undefined, fleet?.probe !== undefined ? `/hosts/_all/containers/json answered ${fleet.probe.status}` : '')
  }
  return out
}

function loadTables (m, label) {
  const cs = Object.keys(m.summary).map(Number)
  const s = (c, p, k) => m.summary[c]?.[p]?.[k]
  const t1 = table(['c', 'direct req/s', 'HAProxy req/s', 'gateway req/s', 'gateway/direct', 'gateway/HAProxy', 'HAProxy/direct'], cs.map((c) => [
    c, f(s(c, 'direct', 'rps')), f(s(c, 'haproxy', 'rps')), f(s(c, 'gateway', 'rps')),
    x(ratio(s(c, 'gateway', 'rps'), s(c, 'direct', 'rps'))), x(ratio(s(c, 'gateway', 'rps'), s(c, 'haproxy', 'rps'))), x(ratio(s(c, 'haproxy', 'rps'), s(c, 'direct', 'rps')))
  ]))
  const t2 = table(['c', 'p50 direct', 'p50 HAProxy', 'p50 gateway', 'p99 direct', 'p99 HAProxy', 'p99 gateway', 'gateway p50 − direct', 'gateway p50 − HAProxy'], cs.map((c) => [
    c, f(s(c, 'direct', 'p50'), 3), f(s(c, 'haproxy', 'p50'), 3), f(s(c, 'gateway', 'p50'), 3),
    f(s(c, 'direct', 'p99'), 3), f(s(c, 'haproxy', 'p99'), 3), f(s(c, 'gateway', 'p99'), 3),
    `${f(s(c, 'gateway', 'p50') - s(c, 'direct', 'p50'), 3)}`, `${f(s(c, 'gateway', 'p50') - s(c, 'haproxy', 'p50'), 3)}`
  ]))
  const t3 = table(['c', 'HAProxy CPU µs/req', 'gateway CPU µs/req', 'gateway/HAProxy CPU', `${label} CPU µs/req (direct)`, 'HAProxy RSS MB', 'gateway RSS MB', 'failed requests'], cs.map((c) => [
    c, f(s(c, 'haproxy', 'proxyCpuUs')), f(s(c, 'gateway', 'proxyCpuUs')), x(ratio(s(c, 'gateway', 'proxyCpuUs'), s(c, 'haproxy', 'proxyCpuUs'))),
    f(s(c, 'direct', 'upstreamCpuUs')), f(s(c, 'haproxy', 'proxyRssMB'), 1), f(s(c, 'gateway', 'proxyRssMB'), 1),
    ['direct', 'haproxy', 'gateway'].map((p) => s(c, p, 'failures') ?? 0).join(' / ')
  ]))
  const bytes = ['direct', 'haproxy', 'gateway'].map((p) => f(s(cs[0], p, 'bytesPerReq'))).join(' / ')
  return `Throughput (median of ${s(cs[0], 'gateway', 'reps')} runs per cell):\n\n${t1}\n\nLatency in ms (each run's percentile over every response; median over runs):\n\n${t2}\n\nCost of the proxy process (CPU of all its threads from /proc/PID/stat, per request; RSS = largest VmRSS sampled during the runs):\n\n${t3}\n\nResponse bytes per request (direct / HAProxy / gateway): ${bytes}. Machine CPU used by other work during these runs: ${pct(m.foreignCpuShare)} of both cores (median).`
}

function renderMarkdown (res, { previous } = {}) {
  const out = []
  const date = res.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
  out.push('# docker-gateway benchmarks')
  out.push('')
  out.push(`**Run of ${date}**, ${res.mode} mode, ${res.totalSeconds !== undefined ? `${(res.totalSeconds / 60).toFixed(1)} minutes` : ''}, gateway at commit \`${res.git.commit}\`${res.git.dirty ? ' plus uncommitted work in src/ and plugins/' : ''}.` + (res.note ? ` **${res.note}.**` : ''))
  out.push('')
  out.push('Timings on a shared 2-core machine are noisy: compare the **ratios** within this run, not absolute numbers across runs. Every table below comes from the same run; `npm run bench` regenerates this file and `bench/results/latest.json` (the same figures, machine-readable).')
  out.push('')
  out.push('## Reproduce')
  out.push('')
  out.push('```sh')
  out.push('npm run bench                         # build + full run, about 10 minutes; rewrites docs/benchmarks.md')
  out.push('npm run bench -- --quick              # smoke run, about 2 minutes on a quiet machine; writes bench/results/quick.{json,md}')
  out.push('npm run bench -- --note "machine shared with other work during this run"')
  out.push('BENCH_DOCKER_HOST=tcp://127.0.0.1:2375 npm run bench   # reuse a daemon instead of a private one')
  out.push('node bench/report.js bench/results/latest.json docs/benchmarks.md   # re-render from the JSON')
  out.push('node bench/profile.js --c 10                                   # CPU profile of the gateway (see the findings)')
  out.push('```')
  out.push('')
  out.push(`This run: \`${res.command}\`. Needs root (it creates a bridge and runs its own dockerd), Debian \`docker.io\`, \`haproxy\`, \`busybox-static\`, \`taskset\` (util-linux); the harness raises \`ulimit -n\` for every process it starts (to 65536 where allowed, else to the hard limit, 20,000 on this machine; 5,000 streams need about 10,000 descriptors in the gateway).`)
  out.push('')

  out.push('## Machine and layout')
  out.push('')
  const m = res.machine
  out.push(table(['', ''], [
    ['CPU', `${m.cpus} × ${m.cpuModel}`],
    ['memory', `${m.memGB} GB`],
    ['kernel', m.kernel],
    ['node', m.node],
    ['HAProxy', m.haproxy],
    ['dockerd', m.dockerd ?? 'not used'],
    ['load generator', `autocannon ${m.autocannon}, in its own process`],
    ['pinning', res.layout.pinned ? `proxy under test (HAProxy or gateway) on CPU ${res.layout.proxyCpu}, load generator on CPU ${res.layout.clientCpu}, upstream (dockerd or fake daemon) not pinned` : 'none'],
    ['HAProxy mode', res.layout.haproxyMode],
    ['load average', `${m.loadavgStart.map((v) => v.toFixed(2)).join(' ')} at start, ${m.loadavgEnd?.map((v) => v.toFixed(2)).join(' ') ?? 'n/a'} at end`],
    ['plan', `${res.plan.reps} × ${res.plan.seconds} s per cell (paths interleaved, order rotated), ${res.plan.warmup} s warm-up per path; export ${res.plan.exportMiB} MiB × ${res.plan.exportReps}; ${res.plan.streams} streams held ${res.plan.holdSeconds} s`]
  ]))
  out.push('')

  out.push('## Gateway features during this run')
  out.push('')
  const feats = res.features ?? {}
  const names = [...new Set([...Object.keys(feats.configured ?? {}), ...Object.keys(feats.observed ?? {})])]
  out.push(table(['feature', 'configured', 'observed from outside'], names.map((n) => [n, feats.configured?.[n] ? `${feats.configured[n].state}${feats.configured[n].detail ? ': ' + feats.configured[n].detail : ''}` : 'n/a', feats.observed?.[n] ?? 'n/a'])))
  out.push('')
  out.push('Token: HS256, `sub: bench`, `scope: containers:read containers:export` (not admin, so scope and ownership checks run in full). TLS is off on every path (HAProxy and the daemon are plain HTTP here too).')
  out.push('')

  out.push('## Targets (issue 12)')
  out.push('')
  out.push('Each figure is the median over the repetitions; "runs" is its range over them (a ratio per repetition, its paths run back to back).')
  out.push('')
  const targets = evaluateTargets(res)
  out.push(table(['target', 'measured', 'status', 'note'], targets.map((t) => [t.target, t.measured, t.status === 'met' ? '**met**' : t.status === 'gap' ? '**gap**' : t.status, t.note])))
  out.push('')

  const fake = res.phases.fake
  out.push('## Pure proxy overhead: fake daemon, `GET /v1.41/containers/json?all=1`')
  out.push('')
  if (fake?.summary !== undefined) {
    out.push(`bench/fake-daemon.js answers a fixed ${f(fake.listBytes)}-byte list at once (node http). Direct = client → fake daemon over TCP; HAProxy and gateway reach it over its unix socket, as a socket proxy reaches /var/run/docker.sock.`)
    out.push('')
    out.push(loadTables(fake, 'fake daemon'))
  } else out.push(`Not run${fake?.error ? `: ${fake.error}` : ''}.`)
  out.push('')

  const real = res.phases.real
  out.push(`## Real daemon: \`GET /v1.41/containers/json?all=1\` with ${real?.containers ?? 20} running containers`)
  out.push('')
  if (real?.summary !== undefined) {
    out.push('Direct = client → dockerd over TCP; HAProxy and gateway reach dockerd over its unix socket. The gateway\'s list carries the owner-label filter when ownership is on (same containers: all are labelled for the bench principal).')
    out.push('')
    out.push(loadTables(real, 'dockerd (+containerd)'))
  } else out.push(`Not run${real?.error ? `: ${real.error}` : ''}.`)
  out.push('')

  const cores = res.phases.cores
  out.push(`## Every core: real daemon, the proxies unpinned${cores?.cores !== undefined ? ` on ${cores.cores} cores` : ''}`)
  out.push('')
  if (cores?.summary !== undefined) {
    out.push(`HAProxy with \`nbthread ${cores.haproxyThreads}\`, the gateway with ${cores.gatewayWorkers} workers (\`GATEWAY_WORKERS\`, a primary in front: bench/gateway-server.js runs src/cluster as \`docker-gateway start\` does), the load generator unpinned too; same list call and daemon as above. The gateway's CPU and RSS are those of the primary and its workers together (RSS: the sum of each process's peak).`)
    out.push('')
    out.push(loadTables(cores, 'dockerd (+containerd)'))
    if (cores.summary[10]?.gateway1 !== undefined) {
      const g = (c, p, k) => cores.summary[c]?.[p]?.[k]
      out.push('', 'The same gateway with `GATEWAY_WORKERS=1` (one process, unpinned), in the same rotation: what the workers add on this machine.', '')
      out.push(table(['c', `gateway, ${cores.gatewayWorkers} workers req/s`, 'gateway, 1 worker req/s', 'workers / 1 worker', `${cores.gatewayWorkers} workers CPU µs/req`, '1 worker CPU µs/req', '1 worker p50 ms', '1 worker RSS MB'], Object.keys(cores.summary).map(Number).map((c) => [
        c, f(g(c, 'gateway', 'rps')), f(g(c, 'gateway1', 'rps')), x(ratio(g(c, 'gateway', 'rps'), g(c, 'gateway1', 'rps'))),
        f(g(c, 'gateway', 'proxyCpuUs')), f(g(c, 'gateway1', 'proxyCpuUs')), f(g(c, 'gateway1', 'p50'), 3), f(g(c, 'gateway1', 'proxyRssMB'), 1)
      ])))
    }
  } else out.push(`Not run${cores?.error ? `: ${cores.error}` : ''}.`)
  out.push('')

  const exp = res.phases.export
  out.push(`## Streaming: export of a ${exp?.sizeMiB ?? 1024} MiB container`)
  out.push('')
  if (exp?.summary !== undefined) {
    const s = exp.summary
    out.push(table(['path', 'MiB/s', 'vs direct', 'vs HAProxy', 'proxy CPU-s/GiB', 'proxy peak RSS (VmHWM) MB', 'dockerd CPU-s/GiB', 'bytes'], ['direct', 'haproxy', 'gateway'].map((p) => [
      p, f(s[p]?.mibPerSec), x(ratio(s[p]?.mibPerSec, s.direct?.mibPerSec)), x(ratio(s[p]?.mibPerSec, s.haproxy?.mibPerSec)),
      p === 'direct' ? '—' : f(s[p]?.proxyCpuSecPerGiB, 2), p === 'direct' ? '—' : f(s[p]?.peakRssMB, 1), f(s[p]?.upstreamCpuSecPerGiB, 2), `${s[p]?.bytes ?? 'n/a'}${s[p]?.allComplete === false ? ' (INCOMPLETE)' : ''}`
    ])))
    out.push('')
    out.push(`Median of ${res.plan.exportReps} downloads per path, interleaved. The container's /big was written from /dev/urandom by \`dd\` inside it; with the vfs driver the daemon tars it back from disk (page cache). Peak RSS is the proxy process's VmHWM over the whole phase (fresh process per phase), so it includes its baseline.`)
  } else out.push(`Not run${exp?.error ? `: ${exp.error}` : ''}.`)
  out.push('')

  const st = res.phases.streams
  out.push(`## Streaming: ${st?.requested ?? 5000} concurrent \`stats?stream=1\` through the gateway`)
  out.push('')
  if (st !== undefined && st.error === undefined) {
    out.push(table(['measure', 'value'], [
      ['streams requested / established / failed', `${st.requested} / ${st.established} / ${st.failed}${Object.keys(st.openErrors ?? {}).length > 0 ? ' ' + JSON.stringify(st.openErrors) : ''}`],
      [`time to open them all (batches of ${st.openBatch ?? 250}, each answered before the next: limits.maxConnectionsPerAddress is 64)`, `${f(st.openSeconds, 1)} s`],
      ['gateway limits.maxConnections for this phase', st.maxConnections !== undefined ? `${st.maxConnections} (streams + 1000; the derived default is at most 4096)` : 'the derived default (at most 4096)'],
      [`delivering (data in the last 2.5 s, after ${st.holdSeconds} s held)`, `${st.delivering}`],
      ['fewest stats objects received by one stream', `${st.minObjectsPerStream}`],
      ['streams the daemon saw while holding', `${st.daemonStreamsHolding}`],
      ['gateway CPU while holding (1 object/s/stream)', pct(st.gatewayCpuShareHolding) + ' of one core'],
      ['gateway RSS idle before', `${f(st.idleRssMB, 1)} MB`],
      ['gateway RSS while holding (max sampled)', `${f(st.holdingRssMB, 1)} MB`],
      ['gateway RSS peak during the mass disconnect', `${f(st.disconnectPeakRssMB, 1)} MB`],
      ['gateway RSS 3 s after the mass disconnect', `${f(st.afterDisconnectRssMB, 1)} MB`],
      ['gateway VmHWM (whole phase)', `${f(st.hwmMB, 1)} MB`],
      ['daemon stats streams left open after the disconnect', `${st.daemonStreamsLeft} (all gone ${st.drainedMs !== undefined ? `${st.drainedMs} ms` : 'NOT within 15 s'} after the clients left)`],
      ['daemon sockets still open (idle keep-alive of the short-call pool included)', `${st.daemonSocketsLeft}`],
      ['… of which never carried a request (left behind by the gateway)', `${st.daemonIdleNeverUsed ?? 'not counted in this run'}`]
    ]))
    out.push('')
    out.push('Against the fake daemon extended with a `/containers/{id}/stats` stream (one JSON object per second per stream, 20 container ids): the real dockerd on 2 cores cannot hold 5,000 stats streams (each one samples cgroups every second), so that would measure the daemon, not the gateway. The client is a raw-socket HTTP client in the load-generator process; "left open" is counted by the fake daemon itself (responses not yet closed).')
  } else out.push(`Not run${st?.error ? `: ${st.error}` : ''}.`)
  out.push('')

  const fl = res.phases.fleet
  out.push('## Fleet: `GET /hosts/_all/containers/json`')
  out.push('')
  if (fl?.available === true) {
    out.push(table(['hosts', 'host delays (ms)', 'slowest', 'sum', 'slowest host direct p50', 'fleet p50 ms (c=1)', 'fleet p99 ms (c=1)', 'fleet p50 − slowest direct', 'req/s c=1', 'req/s c=10', 'items', 'failed'], fl.sets.map((s) => [s.hosts, s.delays.join(', '), s.slowestMs, s.sumMs, f(s.slowestDirectP50, 1), f(s.p50, 1), f(s.p99, 1), f(s.p50 - s.slowestDirectP50, 1), f(s.rpsC1), f(s.rpsC10), s.items ?? 'n/a', s.failures])))
    out.push('')
    out.push('Fake daemons with an added delay on the list call (five at 10 ms, one at 50 ms), so a fan-out that waits for the slowest host and one that adds them up give different answers.')
  } else if (fl !== undefined && fl.error === undefined) {
    out.push(`**Not available yet**: the gateway answered \`${fl.probe?.status}\` (${(fl.probe?.body ?? '').replace(/\|/g, '\\|').slice(0, 120)}) to \`/hosts/_all/containers/json\`. The harness probes it on every run and fills this table once the fleet endpoint exists (1, 3 and 6 fake daemons; five at 10 ms, one at 50 ms).`)
  } else out.push(`Not run${fl?.error ? `: ${fl.error}` : ''}.`)
  out.push('')

  out.push('## Method')
  out.push('')
  out.push([
    '- **Processes.** Each proxy runs in its own process: HAProxy (`haproxy -db`, one thread since it is pinned to one core) and the gateway (`bench/gateway-server.js`: the compiled `dist/` app from `buildApp`, stdout = its log file, where the audit lines go). The load generator (`bench/client-worker.js`, autocannon) is a third process; the orchestrator only starts things and reads /proc.',
    '- **Pinning.** On 2 cores the load generator would otherwise steal the proxy\'s CPU. The proxy under test gets CPU 0, the load generator CPU 1 (`taskset -c`), and the upstream floats, as a daemon on the same host as its proxy would. `--no-pin` turns this off.',
    '- **Load.** autocannon, keep-alive, pipelining 1, at c = 1, 10, 100; every cell is run for every path before the next repetition, with the path order rotated; tables show the median over repetitions. Latency percentiles are computed from every response time (autocannon\'s own histogram rounds to whole milliseconds, too coarse at c=1).',
    '- **CPU and memory.** utime+stime of all the proxy\'s threads from /proc/PID/stat around each run, divided by the requests it answered (10 ms tick resolution, well under 1 % of a run). RSS from /proc/PID/status (VmRSS sampled every 250 ms, VmHWM for peaks). The "other work" figure is machine busy time (/proc/stat) minus the CPU of every process of the run.',
    '- **HAProxy.** The configuration of Tecnativa/docker-socket-proxy (the most used socket proxy, also the base of linuxserver/socket-proxy): `mode http`, `option httplog` to stdout, `option http-server-close`, `timeout client/server 10m`, `timeout tunnel 1h`, `http-request deny unless METH_GET`, allow `^(/v[\\d.]+)?/containers` (and `/_ping`, `/version`), deny the rest; generated by `bench/lib/haproxy.js`. `--haproxy-keepalive` swaps `http-server-close` for keep-alive to the daemon.',
    '- **Daemon.** A private dockerd (own data root, exec root, pid file, TCP port and unix socket under /tmp/dgwbench, bridge `br-dgwbench` 172.30.9.1/24, `--iptables=false --ip-masq=false`, vfs), with the busybox test image imported from busybox-static; 20 running `sleep` containers labelled `dgw.bench=1`. Everything is removed at the end, also on failure or Ctrl-C.'
  ].join('\n'))
  out.push('')
  // The findings are written by hand in the report itself, below HAND_WRITTEN: kept as they are.
  if (previous !== undefined && fs.existsSync(previous)) {
    const text = fs.readFileSync(previous, 'utf8')
    const at = text.indexOf(HAND_WRITTEN)
    if (at !== -1) out.push(text.slice(at).trim(), '')
  }
  return out.join('\n')
}

/** The line after which docs/benchmarks.md is written by hand. */
const HAND_WRITTEN = '<!-- Written by hand from here on: `npm run bench` and bench/report.js keep this part when they rewrite the tables above. -->'

module.exports = { renderMarkdown, evaluateTargets }
