import t from 'tap'
import { familiarString, fullString, parseImageRef, pullRef, referenceForms } from '../../../src/policy/image-ref'
import { checkImage, checkPull, imageForms } from '../../../src/policy/image'
import { routes } from '../../../src/docker/routes'
import { buildUpstreamPath, encodeQuery, parseQuery, validateQuery } from '../../../src/docker/query'
import { imageName, imagePathPattern } from '../../../src/docker/route-schemas'
import { vetPull } from '../../../src/docker/vet'
import { resolvePolicyConfig } from '../../../src/policy/config'

const D = 'sha256:' + 'a'.repeat(64)

t.test('parseImageRef: distribution/reference ParseNormalizedNamed', async t => {
  const cases: Array<[string, string | null]> = [
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['library/nginx', 'docker.io/library/nginx'],
    ['docker.io/nginx', 'docker.io/library/nginx'],
    ['index.docker.io/library/nginx:latest', 'docker.io/library/nginx:latest'],
    ['user/app', 'docker.io/user/app'],
    ['docker.io/registry.internal/x', 'docker.io/registry.internal/x'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x'],
    ['127.0.0.1:5000/library/busybox:1', '127.0.0.1:5000/library/busybox:1'],
    ['localhost/app:v1', 'localhost/app:v1'],
    ['localhost:5000/a/b/c@' + D, 'localhost:5000/a/b/c@' + D],
    ['registry.internal/team/app:1@' + D, 'registry.internal/team/app:1@' + D],
    ['Registry.Internal/app', 'Registry.Internal/app'],
    ['[::1]:5000/app:1', '[::1]:5000/app:1'],
    ['registry-1.docker.io/library/nginx', 'registry-1.docker.io/library/nginx'],
    ['sha256:abc', 'docker.io/library/sha256:abc'],
    // Refused by the daemon's parser too.
    ['a'.repeat(64), null],
    ['Nginx', null],
    ['user/App', null],
    ['nginx:bad tag', null],
    ['nginx@sha256:abc', null],
    ['nginx@md5:' + 'a'.repeat(32), null],
    ['-nginx', null],
    ['a//b', null],
    ['', null],
    ['evil.io:port/x', null],
    ['x/' + 'a'.repeat(260), null]
  ]
  for (const [input, want] of cases) {
    const p = parseImageRef(input)
    t.equal(p.ok ? fullString(p.ref) : null, want, JSON.stringify(input))
  }
})

t.test('familiar form and the forms a pattern is matched against', async t => {
  const forms = (s: string): string[] => { const p = parseImageRef(s); return p.ok ? referenceForms(p.ref) : [] }
  t.same(forms('nginx:1'), ['docker.io/library/nginx:1', 'nginx:1'])
  t.same(forms('user/app:1'), ['docker.io/user/app:1', 'user/app:1'])
  t.same(forms('127.0.0.1:5000/x:1'), ['127.0.0.1:5000/x:1'])
  // The familiar form of this Docker Hub repository would name another registry: not offered.
  t.same(forms('docker.io/registry.internal/x:1'), ['docker.io/registry.internal/x:1'])
  const p = parseImageRef('docker.io/registry.internal/x:1')
  t.equal(p.ok && familiarString(p.ref), 'registry.internal/x:1')
  t.same(imageForms('nginx'), ['nginx', 'docker.io/library/nginx:latest', 'nginx:latest'])
  t.same(imageForms('a'.repeat(64)), ['a'.repeat(64)], 'an image ID is matched only as sent')
})

t.test('create: the allow-list on the normalised reference', async t => {
  const rules = { imageAllowList: ['registry.internal/*', 'nginx:*'] }
  const allowed = (image: string): boolean => checkImage(image, rules).length === 0
  t.ok(allowed('nginx'))
  t.ok(allowed('docker.io/library/nginx:1.25'))
  t.ok(allowed('index.docker.io/library/nginx'))
  t.ok(allowed('registry.internal/team/app:1'))
  t.notOk(allowed('evil.io/nginx:1'))
  t.notOk(allowed('registry.internal.evil.io/x'))
  t.notOk(allowed('docker.io/registry.internal/x'), 'a Docker Hub repository is not registry.internal')
  t.notOk(allowed('nginx@' + D), 'a digest is matched as nginx@sha256:..., not nginx:*')
  t.ok(checkImage('nginx@' + D, { imageAllowList: ['nginx@*'] }).length === 0)
  t.ok(checkImage('nginx', { imageAllowList: ['docker.io/library/nginx:latest'] }).length === 0, 'the full form matches too')
})

t.test('pullRef: fromImage and tag as dockerd combines them', async t => {
  const cases: Array<[string, string, string | null]> = [
    ['nginx', 'latest', 'docker.io/library/nginx:latest'],
    ['nginx:1.2', '', 'docker.io/library/nginx:1.2'],
    ['nginx', '1.2', 'docker.io/library/nginx:1.2'],
    ['nginx:1.2', '1.3', 'docker.io/library/nginx:1.3'],
    ['nginx:', '', 'docker.io/library/nginx'],
    ['nginx', '', 'docker.io/library/nginx'],
    ['nginx', D, 'docker.io/library/nginx@' + D],
    ['nginx:1.2', D, 'docker.io/library/nginx@' + D],
    ['nginx@' + D, '', 'docker.io/library/nginx@' + D],
    ['nginx@' + D, '1.2', 'docker.io/library/nginx@' + D],
    ['127.0.0.1:5000/x', 'v1', '127.0.0.1:5000/x:v1'],
    ['127.0.0.1:5000/x:v1', '', '127.0.0.1:5000/x:v1'],
    ['nginx', 'bad tag', null],
    ['Nginx', 'latest', null]
  ]
  for (const [fromImage, tag, want] of cases) {
    const p = pullRef(fromImage, tag)
    t.equal(p.ok ? fullString(p.ref) : null, want, `fromImage=${fromImage}&tag=${tag}`)
  }
})

t.test('checkPull: the allow-list decision', async t => {
  const list = { imageAllowList: ['nginx:1.*', '127.0.0.1:5000/team/*', 'docker.io/library/busybox@*'] }
  const cases: Array<[string, string, string | number]> = [
    ['nginx', '1.27', 'docker.io/library/nginx:1.27'],
    ['docker.io/library/nginx', '1.27', 'docker.io/library/nginx:1.27'],
    ['index.docker.io/library/nginx:1.27', '', 'docker.io/library/nginx:1.27'],
    ['nginx', 'latest', 403],
    ['nginx:1.2', 'latest', 403],
    ['nginx', '', 403],
    ['nginx:', '', 403],
    ['127.0.0.1:5000/team/app', 'v1', '127.0.0.1:5000/team/app:v1'],
    ['127.0.0.1:5000/other/app', 'v1', 403],
    ['127.0.0.1:5001/team/app', 'v1', 403],
    ['localhost:5000/team/app', 'v1', 403],
    ['busybox', D, 'docker.io/library/busybox@' + D],
    ['busybox', '1', 403],
    ['', 'latest', 400],
    ['Nginx', '1.27', 400],
    ['nginx', '1 2', 400]
  ]
  for (const [fromImage, tag, want] of cases) {
    const d = checkPull(fromImage, tag, list)
    t.equal(d.allow ? d.reference : d.status, want, `fromImage=${fromImage}&tag=${tag}${d.allow ? '' : ': ' + d.message}`)
  }
  const empty = checkPull('nginx', '1.27', { imageAllowList: [] })
  t.match(empty, { allow: false, status: 403, rule: 'image-pull', message: /policy\.imageAllowList is empty/ }, 'no list: no pulls, and the key is named')
  const all = checkPull('nginx', '', { imageAllowList: ['*'] })
  t.match(all, { allow: false, status: 403, message: /every tag of docker\.io\/library\/nginx/ }, 'an all-tags pull is refused even under *')
})

t.test('vetPull: the caller\'s rules, and the normalised reference forwarded', async t => {
  const policy = resolvePolicyConfig({ imageAllowList: ['nginx:*', 'nginx@*'], overrides: [{ principals: ['ci'], policy: { imageAllowList: ['127.0.0.1:5000/*'] } }] })
  const ctx = (principal: string) => ({ principal, scopes: ['images:pull'], ownerLabel: 'o', ownershipEnabled: true })
  const v = vetPull(new Map([['fromImage', 'nginx:1'], ['tag', ''], ['platform', 'linux/amd64']]), policy, ctx('alice'))
  t.ok(v.ok)
  if (v.ok) t.equal(encodeQuery(v.params as Map<string, string>), '?fromImage=docker.io%2Flibrary%2Fnginx&tag=1&platform=linux%2Famd64')
  const digest = vetPull(new Map([['fromImage', 'nginx:1@' + D]]), policy, ctx('alice'))
  t.ok(digest.ok)
  if (digest.ok) t.same([...(digest.params as Map<string, string>)], [['fromImage', 'docker.io/library/nginx'], ['tag', D]], 'by digest, the tag dropped')
  t.match(vetPull(new Map([['fromImage', '127.0.0.1:5000/x'], ['tag', '1']]), policy, ctx('alice')), { ok: false, status: 403 })
  t.match(vetPull(new Map([['fromImage', '127.0.0.1:5000/x'], ['tag', '1']]), policy, ctx('ci')), { ok: true }, 'an override applies')
})

const route = (id: string) => routes.find(r => r.id === id) ?? (() => { throw new Error(id) })()

t.test('images/create query decisions: fromSrc refused with a 403, import parameters dropped', async t => {
  const pull = route('image.pull')
  t.match(validateQuery(pull, parseQuery('fromSrc=-&repo=x')), { ok: false, status: 403, message: /"fromSrc" is not allowed through this gateway \(image import/ })
  t.match(validateQuery(pull, parseQuery('fromImage=nginx&fromSrc=http://169.254.169.254/')), { ok: false, status: 403 })
  const q = validateQuery(pull, parseQuery('fromImage=nginx&tag=1&repo=x&message=m&changes=CMD+x&platform=linux/amd64'))
  t.ok(q.ok)
  if (q.ok) t.same([...q.params], [['fromImage', 'nginx'], ['tag', '1'], ['platform', 'linux/amd64']])
  t.match(validateQuery(pull, parseQuery('fromImage=' + encodeURIComponent('nginx\n'))), { ok: false, message: /invalid reference format/ })
})

t.test('images/json filters: the image filter names only', async t => {
  const list = route('image.list')
  const q = validateQuery(list, parseQuery('all=1&digests=1&filters=' + encodeURIComponent('{"reference":["busybox*"],"dangling":["false"],"until":["10m"]}')))
  t.ok(q.ok)
  if (q.ok) t.same(q.filters, { reference: ['busybox*'], dangling: ['false'], until: ['10m'] })
  t.match(validateQuery(list, parseQuery('filters=' + encodeURIComponent('{"status":["running"]}'))), { ok: false, message: "invalid filter 'status'" })
})

t.test('image inspect: the name with slashes, platform as JSON', async t => {
  const inspect = route('image.inspect')
  const re = new RegExp(imagePathPattern(inspect))
  for (const ok of ['busybox/json', '127.0.0.1:5000/library/busybox:1/json', `x@${D}/json`, 'json/json', `${'a'.repeat(64)}/json`]) t.ok(re.test(ok), ok)
  for (const bad of ['busybox', 'busybox/history', '/json', '-x/json', 'a b/json', 'a?b/json']) t.notOk(re.test(bad), bad)
  t.equal(imageName(inspect, '127.0.0.1:5000/library/busybox:1/json'), '127.0.0.1:5000/library/busybox:1')
  t.equal(buildUpstreamPath(inspect, '127.0.0.1:5000/x:1', '1.43', ''), '/v1.43/images/127.0.0.1:5000/x:1/json')
  const q = validateQuery(inspect, parseQuery('platform=' + encodeURIComponent('{"os":"linux","architecture":"amd64","variant":"","extra":1}')))
  t.match(q, { ok: false }, 'unknown platform keys are refused')
  const p = validateQuery(inspect, parseQuery('platform=' + encodeURIComponent('{ "os" : "linux", "architecture":"arm", "variant":"v7"}')))
  t.ok(p.ok)
  if (p.ok) t.equal(p.params.get('platform'), '{"os":"linux","architecture":"arm","variant":"v7"}', 're-serialised')
})

t.test('a pull is enforced in report mode too (the rule image-pull never reports)', async t => {
  const policy = resolvePolicyConfig({ mode: 'report', imageAllowList: ['nginx:*'] })
  const ctx = { principal: 'alice', scopes: ['images:pull'], ownerLabel: 'o', ownershipEnabled: true }
  t.match(vetPull(new Map([['fromImage', 'evil.io/x'], ['tag', '1']]), policy, ctx), { ok: false, status: 403, rule: 'image-pull' })
  t.throws(() => resolvePolicyConfig({ reportRules: ['image-pull'] }), /image-pull.*never report-only/)
})
