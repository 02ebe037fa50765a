import t from 'tap'
import { isUnderAnyPrefix, isUnderPrefix, normaliseHostPath, parseBind } from '../../../src/policy/paths'

t.test('host paths are cleaned like path.Clean', async t => {
  const cases: Array<[string, string]> = [
    ['/', '/'],
    ['//', '/'],
    ['/srv/data', '/srv/data'],
    ['/srv/data/', '/srv/data'],
    ['/srv//data///', '/srv/data'],
    ['/srv/./data/.', '/srv/data'],
    ['/etc/../', '/'],
    ['/srv/data/../../etc', '/etc'],
    ['/../../etc/shadow', '/etc/shadow'],
    ['/srv/data/..', '/srv'],
    ['/srv/data/...', '/srv/data/...'],
    ['/srv/data/..x', '/srv/data/..x'],
    ['//var/run/docker.sock', '/var/run/docker.sock']
  ]
  for (const [raw, clean] of cases) t.same(normaliseHostPath(raw), { ok: true, path: clean }, raw)
})

t.test('paths that cannot be cleaned into an absolute path are refused', async t => {
  for (const [raw, reason] of [
    ['', 'is empty'],
    ['etc', 'is not an absolute path'],
    ['./etc', 'is not an absolute path'],
    ['../etc', 'is not an absolute path'],
    ['~/x', 'is not an absolute path'],
    ['~root', 'is not an absolute path'],
    ['/srv/data\0/x', 'contains a NUL byte']
  ]) {
    t.same(normaliseHostPath(raw!), { ok: false, reason }, JSON.stringify(raw))
  }
})

t.test('prefixes match on whole path segments', async t => {
  t.ok(isUnderPrefix('/srv/data', '/srv/data'))
  t.ok(isUnderPrefix('/srv/data/x/y', '/srv/data'))
  t.notOk(isUnderPrefix('/srv/data2', '/srv/data'))
  t.notOk(isUnderPrefix('/srv/dat', '/srv/data'))
  t.notOk(isUnderPrefix('/srv', '/srv/data'))
  t.ok(isUnderPrefix('/anything', '/'))
  t.ok(isUnderAnyPrefix('/srv/data/x', ['/opt', '/srv/data/']), 'configured prefixes are cleaned too')
  t.ok(isUnderAnyPrefix('/srv/data/x', ['/srv/./data//']))
  t.notOk(isUnderAnyPrefix('/srv/data/x', ['srv/data']), 'a relative prefix matches nothing')
  t.notOk(isUnderAnyPrefix('/srv/data/x', []))
})

t.test('Binds entries are split like the daemon does', async t => {
  t.same(parseBind('/srv/data:/data'), { ok: true, spec: { kind: 'bind', source: '/srv/data', target: '/data', options: [] } })
  t.same(parseBind('/srv/data:/data:rw,z'), { ok: true, spec: { kind: 'bind', source: '/srv/data', target: '/data', options: ['rw', 'z'] } })
  t.same(parseBind('myvol:/data:ro'), { ok: true, spec: { kind: 'volume', source: 'myvol', target: '/data', options: ['ro'] } })
  t.same(parseBind('/data'), { ok: true, spec: { kind: 'anonymous', target: '/data', options: [] } }, 'one part is an anonymous volume at that container path')
  t.same(parseBind('etc:/x'), { ok: true, spec: { kind: 'volume', source: 'etc', target: '/x', options: [] } }, 'a bare word is a volume name')
  for (const [entry, reason] of [
    ['../etc:/x', /neither an absolute host path nor a volume name/],
    ['./etc:/x', /neither/],
    ['~/.ssh:/x', /neither/],
    ['etc/passwd:/x', /neither/],
    ['x:/y', /neither/],
    [':/x', /empty source/],
    ['', /empty source/],
    ['/a:/b:ro:extra', /more than three/],
    ['/foo:rw', /has a mode but no container path/]
  ] as const) {
    const r = parseBind(entry)
    t.notOk(r.ok, entry)
    if (!r.ok) t.match(r.reason, reason, entry)
  }
})
