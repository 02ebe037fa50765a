// The start banner's line per daemon, from the host's first health check.
import t from 'tap'
import { daemonBannerLine } from '../../../src/upstream/banner'
import { initialHealth, type HostHealth } from '../../../src/upstream/health'

const host = (health: Partial<HostHealth>, url = 'unix:///var/run/docker.sock'): Parameters<typeof daemonBannerLine>[0] =>
  ({ name: 'default', config: { url }, health: { ...initialHealth(), ...health } })

t.test('daemon lines', async t => {
  const cases: Array<[string, Parameters<typeof daemonBannerLine>[0], string]> = [
    ['reached, with versions', host({ state: 'up', lastCheck: 1, version: '20.10.24+dfsg1', apiVersion: '1.41' }),
      'daemon "default": unix:///var/run/docker.sock, reached: Docker 20.10.24+dfsg1, API 1.41'],
    ['reached, /version failed', host({ state: 'up', lastCheck: 1, apiVersion: '1.41' }, 'tcp://127.0.0.1:2375'),
      'daemon "default": tcp://127.0.0.1:2375, reached: API 1.41'],
    ['reached, slow', host({ state: 'degraded', lastCheck: 1, latencyMs: 900, version: '27.3.1', apiVersion: '1.47' }),
      'daemon "default": unix:///var/run/docker.sock, reached: Docker 27.3.1, API 1.47'],
    ['not reachable', host({ state: 'degraded', lastCheck: 1, error: 'ECONNREFUSED', failures: 1 }, 'tcp://127.0.0.1:2375'),
      'WARNING: daemon "default": tcp://127.0.0.1:2375 is not reachable (ECONNREFUSED); the gateway runs anyway, calls to it fail until it answers (GET /hosts shows its state)'],
    ['not checked', host({}), 'daemon "default": unix:///var/run/docker.sock, not checked yet']
  ]
  for (const [name, h, line] of cases) t.equal(daemonBannerLine(h), line, name)
})
