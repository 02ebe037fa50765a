import t from 'tap'
import { STRUCTS } from '../../../src/policy/docker-schema'
import { decodeGoBody, goFieldName, goFoldKey, goToUpper } from '../../../src/policy/go-json'

function ok (raw: string, root = 'CreateBody') {
  const r = decodeGoBody(raw, root)
  if (!r.ok) throw new Error(`refused: ${r.message}`)
  return r
}

function refused (raw: string, root = 'CreateBody') {
  const r = decodeGoBody(raw, root)
  if (r.ok) throw new Error(`accepted: ${raw}`)
  return r
}

t.test('folds keys the way Go matches struct fields', async t => {
  t.equal(goFoldKey('PRIVILEGED'), 'privileged')
  t.equal(goFoldKey('Bindſ'), 'binds', 'U+017F long s folds to s')
  t.equal(goFoldKey('PIDSlimit'), 'pidslimit')
  t.equal(goFoldKey('\u212aernelMemory'), 'kernelmemory', 'U+212A Kelvin sign folds to k')
  t.equal(goFieldName('HostConfig', 'prıvileged'), undefined, 'dotless i is its own fold orbit in Go, so it matches nothing')
  t.equal(goFieldName('HostConfig', 'Privileged'), 'Privileged')
  t.equal(goFieldName('HostConfig', 'CPURealtimePeriod'), 'CpuRealtimePeriod', 'docker-py spelling')
  t.equal(goFieldName('HostConfig', 'NoSuchField'), undefined)
})

t.test('renames folded struct keys at every level and keeps map keys as sent', async t => {
  const r = ok(JSON.stringify({
    image: 'busybox',
    LABELS: { Team: 'a', team: 'b' },
    hostconfig: {
      privilegeD: false,
      'Bindſ': ['/a:/b'],
      '\u212aernelMemory': 0,
      portbindings: { '80/tcp': [{ hostport: '8080', HOSTIP: '' }] },
      logconfig: { type: 'json-file', config: { 'Max-Size': '1m' } },
      mounts: [{ type: 'volume', volumeoptions: { driverconfig: { name: 'local', options: { O: 'x' } } } }]
    },
    networkingconfig: { endpointsconfig: { MyNet: { aliases: ['x'] } } }
  }))
  t.same(r.value, {
    Image: 'busybox',
    Labels: { Team: 'a', team: 'b' },
    HostConfig: {
      Privileged: false,
      Binds: ['/a:/b'],
      KernelMemory: 0,
      PortBindings: { '80/tcp': [{ HostPort: '8080', HostIp: '' }] },
      LogConfig: { Type: 'json-file', Config: { 'Max-Size': '1m' } },
      Mounts: [{ Type: 'volume', VolumeOptions: { DriverConfig: { Name: 'local', Options: { O: 'x' } } } }]
    },
    NetworkingConfig: { EndpointsConfig: { MyNet: { Aliases: ['x'] } } }
  })
  t.same(r.dropped, [])
})

t.test('two keys reaching one field are refused', async t => {
  for (const raw of [
    '{"HostConfig":{"Privileged":false,"privileged":true}}',
    '{"HostConfig":{"PRIVILEGED":true,"privileged":false}}',
    '{"HostConfig":{"Binds":[],"Bind\\u017f":["/:/host"]}}',
    '{"Image":"a","image":"b"}',
    '{"HostConfig":{"LogConfig":{"Type":"a","TYPE":"b"}}}'
  ]) {
    const r = refused(raw)
    t.equal(r.rule, 'json-key-case', raw)
    t.equal(r.status, 400)
  }
  t.match(refused('{"HostConfig":{"Privileged":false,"privileged":true}}').message,
    /keys "Privileged" and "privileged" both set HostConfig\.Privileged/)
})

t.test('unknown struct keys are dropped and reported; unknown map keys are data', async t => {
  const r = ok('{"Image":"a","Bogus":1,"HostConfig":{"Capabilities":["ALL"],"Privıleged":true},"ExposedPorts":{"80/tcp":{"x":1}},"Labels":{"Bogus":"1"}}')
  t.same(r.value, { Image: 'a', HostConfig: {}, ExposedPorts: { '80/tcp': {} }, Labels: { Bogus: '1' } })
  t.same(r.dropped.map(d => [d.path, d.key, d.struct]), [
    ['', 'Bogus', 'CreateBody'],
    ['HostConfig', 'Capabilities', 'HostConfig'],
    ['HostConfig', 'Privıleged', 'HostConfig'],
    ['ExposedPorts["80/tcp"]', 'x', 'Empty']
  ])
})

t.test('values must have the Go type of their field', async t => {
  const cases: Array<[string, RegExp]> = [
    ['{"HostConfig":{"Privileged":"true"}}', /HostConfig\.Privileged: expected a boolean, got a string/],
    ['{"HostConfig":{"Privileged":1}}', /expected a boolean, got a number/],
    ['{"HostConfig":{"Memory":"1g"}}', /HostConfig\.Memory: expected an integer, got a string/],
    ['{"HostConfig":{"Memory":1e9}}', /expected an integer, got 1e9/],
    ['{"HostConfig":{"Memory":1.0}}', /expected an integer, got 1\.0/],
    ['{"HostConfig":{"Memory":9223372036854775807}}', /too large for the gateway to forward exactly/],
    ['{"HostConfig":{"Binds":"/:/host"}}', /HostConfig\.Binds: expected an array, got a string/],
    ['{"HostConfig":{"Binds":[null]}}', /HostConfig\.Binds\[0\]: null is not allowed in a list/],
    ['{"HostConfig":{"Binds":[1]}}', /HostConfig\.Binds\[0\]: expected a string/],
    ['{"HostConfig":[]}', /HostConfig: expected an object, got an array/],
    ['{"Labels":{"a":1}}', /Labels\.a: expected a string/],
    ['{"HostConfig":{"PortBindings":{"80/tcp":{"HostPort":"1"}}}}', /PortBindings\["80\/tcp"\]: expected an array/],
    ['{"Image":["a"]}', /Image: expected a string, got an array/]
  ]
  for (const [raw, re] of cases) {
    const r = refused(raw)
    t.equal(r.rule, 'json-type', raw)
    t.match(r.message, re, raw)
  }
})

t.test('null means unset for any field and is kept', async t => {
  t.same(ok('{"HostConfig":{"Privileged":null,"Binds":null,"MaskedPaths":null},"Labels":{"a":null}}').value,
    { HostConfig: { Privileged: null, Binds: null, MaskedPaths: null }, Labels: { a: null } })
})

t.test('strslice fields take a single string like the daemon', async t => {
  t.same(ok('{"Cmd":"echo hi","Entrypoint":["sh"],"HostConfig":{"CapAdd":"SYS_ADMIN","CapDrop":["ALL"]}}').value,
    { Cmd: ['echo hi'], Entrypoint: ['sh'], HostConfig: { CapAdd: ['SYS_ADMIN'], CapDrop: ['ALL'] } })
})

t.test('bodies that are not objects are refused', async t => {
  for (const raw of ['[]', '"x"', '1', 'null', 'true']) {
    const r = refused(raw)
    t.equal(r.rule, 'body-shape', raw)
    t.match(r.message, /request body must be a JSON object/)
  }
  t.equal(refused('{"a":1').rule, 'json-syntax')
  t.equal(refused('{"a":1,"a":2}').rule, 'json-duplicate-key')
  t.equal(refused('{"Labels":' + '['.repeat(70) + ']'.repeat(70) + '}').rule, 'json-depth')
})

t.test('a __proto__ key is ordinary data', async t => {
  const r = ok('{"Labels":{"__proto__":"x","a":"b"}}')
  const labels = r.value.Labels as Record<string, unknown>
  t.equal(Object.getPrototypeOf(labels), Object.prototype)
  t.same(Object.keys(labels), ['__proto__', 'a'])
  t.equal(JSON.stringify(r.value), '{"Labels":{"__proto__":"x","a":"b"}}')
  t.same(ok('{"__proto__":{"Privileged":true}}').value, {}, 'an unknown top-level __proto__ is dropped, not merged')
})

t.test('the re-serialised body decodes to itself', async t => {
  const raw = '{"image":"a","hostconfig":{"bindſ":["/x:/y"],"Memory":5},"Labels":{"k\\ud800":"v"}}'
  const once = ok(raw).value
  const twice = ok(JSON.stringify(once)).value
  t.same(twice, once)
  t.equal(JSON.stringify(once), '{"Image":"a","HostConfig":{"Binds":["/x:/y"],"Memory":5},"Labels":{"k\ufffd":"v"}}')
})

t.test('the schema is closed: every struct a shape names exists', async t => {
  for (const [name, fields] of Object.entries(STRUCTS)) {
    for (const [field, shape] of Object.entries(fields)) {
      for (const m of shape.matchAll(/struct:(\w+)/g)) t.ok(STRUCTS[m[1]!], `${name}.${field} -> ${m[1]}`)
      t.match(shape, /^(?:(?:array|map):)*(?:string|bool|int|num|any|strslice|struct:\w+)$/, `${name}.${field}`)
    }
  }
})

t.test('goToUpper maps one rune to one rune like Go', async t => {
  t.equal(goToUpper('ſys_admin'), 'SYS_ADMIN')
  t.equal(goToUpper('cap_ıpc_lock'), 'CAP_IPC_LOCK')
  t.equal(goToUpper('ßﬁ'), 'ßﬁ', 'no multi-rune expansions')
})
