import t from 'tap'
import { dockerCpRefusal, engineVersion } from '../../../src/docker/docker-cp'

// Which daemons get docker cp (config dockerCp): the races are fixed in Docker Engine 29.5.1.
t.test('auto: only daemons at 29.5.1 or later', async t => {
  const cases: Array<[string | undefined, boolean]> = [
    ['20.10.24+dfsg1', false], ['28.5.2', false], ['29.5.0', false], ['29.4.9', false],
    ['29.5.1', true], ['29.5.10', true], ['29.6.0', true], ['30.0.0', true], ['v29.5.1', true],
    [undefined, false], ['', false], ['dev', false], ['29', false]
  ]
  for (const [version, served] of cases) {
    t.equal(dockerCpRefusal('auto', version) === undefined, served, `${String(version)}: ${served ? 'served' : 'refused'}`)
  }
  t.match(dockerCpRefusal('auto', '20.10.24+dfsg1'), /Docker Engine 20\.10\.24\+dfsg1.*29\.5\.1.*CVE-2026-41568, CVE-2026-42306.*dockerCp: on/)
})

t.test('on serves every daemon, off none', async t => {
  t.equal(dockerCpRefusal('on', '20.10.24'), undefined)
  t.equal(dockerCpRefusal('on', undefined), undefined)
  t.match(dockerCpRefusal('off', '30.0.0'), /turned off/)
})

t.test('engineVersion reads the release, not the packaging suffix', async t => {
  t.same(engineVersion('20.10.24+dfsg1'), [20, 10, 24])
  t.same(engineVersion('29.5.1-rc.1'), [29, 5, 1])
  t.equal(engineVersion('x.y.z'), undefined)
})
