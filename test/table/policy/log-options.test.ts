import t from 'tap'
import { vetCreate } from '../../../src/policy/create'
import { PolicyConfigError, resolvePolicyConfig } from '../../../src/policy/config'
import { checkLogOptions, injectLogDefaults, parseLogSize } from '../../../src/policy/log-options'
import { alice } from '../../helpers/policy/cases'

/**
 * Rule `log-options` (issue 10 review, log size): dockerd writes a container's
 * log on the host's disk, so max-size and max-file are capped, and rotation
 * is injected where the body leaves it out (json-file keeps one unbounded
 * file by default).
 */

const base = resolvePolicyConfig({})
const KiB = 1024
const MiB = 1024 ** 2
const GiB = 1024 ** 3

t.test('sizes are read as go-units does, with 1024 multipliers', async t => {
  const table: Array<[string, number | undefined]> = [
    ['2048', 2048], ['10k', 10 * KiB], ['10K', 10 * KiB], ['10kb', 10 * KiB], ['10KiB', 10 * KiB], ['20m', 20 * MiB], ['100M', 100 * MiB],
    ['1.5g', 1.5 * GiB], ['1 g', GiB], ['1000g', 1000 * GiB], ['1t', 1024 * GiB],
    ['-1', undefined], ['', undefined], ['1e9', undefined], ['10 mb ', undefined], ['10x', undefined], ['m', undefined], ['0x10', undefined]
  ]
  for (const [s, n] of table) t.equal(parseLogSize(s), n, JSON.stringify(s))
})

const hc = (config: Record<string, string>, type = 'json-file'): Record<string, unknown> => ({ LogConfig: { Type: type, Config: config } })
const CASES: Array<[string, Record<string, string>, string[]]> = [
  ['rotation within the caps', { 'max-size': '100m', 'max-file': '10', compress: 'true' }, []],
  ['no rotation options (injected later)', { tag: '{{.Name}}' }, []],
  ['max-size 1000g', { 'max-size': '1000g' }, ['max-size']],
  ['max-size just above 100m', { 'max-size': '104857601' }, ['max-size']],
  ['max-size -1 (unlimited for json-file)', { 'max-size': '-1' }, ['max-size']],
  ['max-size 0', { 'max-size': '0' }, ['max-size']],
  ['max-size not a size', { 'max-size': 'lots' }, ['max-size']],
  ['max-file 1000000', { 'max-file': '1000000' }, ['max-file']],
  ['max-file 11', { 'max-file': '11' }, ['max-file']],
  ['max-file 0', { 'max-file': '0' }, ['max-file']],
  ['max-file -1', { 'max-file': '-1' }, ['max-file']],
  ['both too big (the review\'s body)', { 'max-size': '1000g', 'max-file': '1000000' }, ['max-size', 'max-file']],
  ['an address option', { 'syslog-address': 'udp://1.2.3.4:1' }, ['syslog-address']]
]
for (const [name, config, keys] of CASES) {
  t.test(name, async t => {
    const v = checkLogOptions(hc(config), base.logs)
    t.same(v.map(x => x.field), keys.map(k => `HostConfig.LogConfig.Config["${k}"]`.replace(/\["([a-z]+)"\]/, '.$1')))
    for (const x of v) t.equal(x.rule, 'log-options')
  })
}

t.test('the caps are configurable; "" and 0 mean no cap', async t => {
  t.same(checkLogOptions(hc({ 'max-size': '1g', 'max-file': '50' }), { ...base.logs, maxSize: '1g', maxFile: 50 }), [])
  t.same(checkLogOptions(hc({ 'max-size': '1000g', 'max-file': '1000000' }), { ...base.logs, maxSize: '', maxFile: 0 }), [])
  t.equal(checkLogOptions(hc({ 'max-size': '-1' }), { ...base.logs, maxSize: '' }).length, 1, 'unlimited is still refused')
})

function injected (logConfig: unknown, logs = base.logs): unknown {
  const h: Record<string, unknown> = logConfig === undefined ? {} : { LogConfig: logConfig }
  injectLogDefaults(h, logs)
  return h.LogConfig
}

t.test('rotation is injected where the body leaves it out', async t => {
  const rot = { 'max-size': '20m', 'max-file': '5' }
  t.same(injected(undefined), { Type: 'json-file', Config: rot }, 'no LogConfig: json-file, rotated')
  t.same(injected({ Type: '', Config: {} }), { Type: 'json-file', Config: rot }, 'the docker CLI\'s empty LogConfig')
  t.same(injected({ Type: 'json-file', Config: null }), { Type: 'json-file', Config: rot }, 'json-file gets rotation')
  t.same(injected({ Type: 'local' }), { Type: 'local', Config: rot })
  t.same(injected({ Type: 'json-file', Config: { 'max-size': '50m' } }), { Type: 'json-file', Config: { 'max-size': '50m', 'max-file': '5' } }, 'what the body sets is kept')
  t.same(injected({ Type: 'journald', Config: { tag: 'x' } }), { Type: 'journald', Config: { tag: 'x' } }, 'journald rotates itself and refuses max-size: left alone')
  const local = { ...base.logs, defaultDriver: 'local' }
  t.same(injected(undefined, local), { Type: 'local', Config: rot }, 'defaultDriver local')
  t.same(injected({ Type: '', Config: { tag: 'x' } }, local), { Type: 'json-file', Config: { tag: 'x', ...rot } }, 'options the local driver refuses: json-file instead')
  t.same(injected({ Type: '', Config: { compress: 'false' } }, local), { Type: 'local', Config: { compress: 'false', ...rot } })
  t.same(injected(undefined, { ...base.logs, defaultDriver: '' }), undefined, 'defaultDriver "": the daemon\'s default driver, nothing injected')
  t.same(injected({ Type: '', Config: {} }, { ...base.logs, defaultDriver: '' }), { Type: '', Config: {} })
  t.same(injected({ Type: 'json-file' }, { ...base.logs, defaultMaxSize: '', defaultMaxFile: 0, maxSize: '' }), { Type: 'json-file', Config: {} })
})

t.test('through vetCreate: refused bodies are 403 log-options, the forwarded body carries rotation', async t => {
  const d = vetCreate(JSON.stringify({ Image: 'x', HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '1000g', 'max-file': '1000000' } } } }), base, alice)
  t.equal(d.allow, false)
  if (!d.allow) t.match(d.message, /^policy denied: HostConfig\.LogConfig\.Config\["max-size"\]="1000g" is above the maximum "100m" .*\(rule: log-options\)$/)
  const ok = vetCreate(JSON.stringify({ Image: 'x' }), base, alice)
  if (ok.allow) t.same((ok.body.HostConfig as Record<string, unknown>).LogConfig, { Type: 'json-file', Config: { 'max-size': '20m', 'max-file': '5' } })
  else t.fail(ok.message)
})

t.test('config: the logs section is validated', async t => {
  t.same(resolvePolicyConfig({ logs: { maxSize: '1g' } }).logs, { ...base.logs, maxSize: '1g' })
  for (const logs of [
    { maxSize: 'big' },
    { defaultMaxSize: '200m' },
    { defaultMaxFile: 20 },
    { maxSize: '10m', defaultMaxSize: '' },
    { defaultDriver: 'syslog' }
  ]) t.throws(() => resolvePolicyConfig({ logs }), PolicyConfigError, JSON.stringify(logs))
  t.throws(() => resolvePolicyConfig({ allowedLogDrivers: ['local'] }), PolicyConfigError, 'the default json-file must be allowed')
  t.throws(() => resolvePolicyConfig({ allowedLogDrivers: ['local'], logs: { defaultDriver: 'local' } }), PolicyConfigError, 'local as default needs json-file for tag/labels bodies')
  t.doesNotThrow(() => resolvePolicyConfig({ logs: { defaultDriver: 'local' } }))
  t.doesNotThrow(() => resolvePolicyConfig({ allowedLogDrivers: ['journald', ''], logs: { defaultDriver: '' } }))
})
