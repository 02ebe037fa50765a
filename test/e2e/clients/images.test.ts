// Images through the gateway with the clients people use (issue 13 items 1
// and 2): the docker CLI (`docker run` of an image not yet on the daemon,
// `docker pull`, `docker images`, `docker image inspect`) and docker-py
// (`client.images.pull`, `client.images.list()`), over HTTPS with a test CA,
// pulling from a private registry on 127.0.0.1 that the policy allow-lists.
// What is asserted is what the clients printed and what the daemon holds.
import t from 'tap'
import { docker, cleanupLabel, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { hasImage, pushImage, removeImage, requireRegistry, startRegistry, type Pushed } from '../../helpers/registry'
import { makeTestCa, startHttpsGateway } from '../../helpers/tls'
import { writeConfig } from '../../helpers/policy/client'
import { cleanEnv, describeRun, dockerConfigDir, runProcess, USER_SCOPES } from '../../helpers/clients/clients'

const DOCKER = '/usr/local/bin/docker'
const PYTHON = '/usr/bin/python3'
const d = requireDaemon(t)
const label = testLabel(__filename)

const PY_IMAGES = `
import json, sys, docker
url, ca, token, name, tag, api = sys.argv[1:7]
client = docker.DockerClient(base_url=url, tls=docker.tls.TLSConfig(ca_cert=ca, verify=True), version=api, timeout=60)
client.api.headers['Authorization'] = 'Bearer ' + token
out = {}
image = client.images.pull(name, tag=tag)
out['pulled'] = {'id': image.id, 'tags': image.tags}
out['listed'] = [t for i in client.images.list() for t in i.tags]
try:
    client.images.pull(name.replace('/team/', '/other/'), tag=tag)
    out['refused'] = None
except docker.errors.APIError as e:
    out['refused'] = {'status': e.status_code, 'explanation': str(e.explanation)}
print(json.dumps(out))
`

if (d !== undefined && requireRegistry(t)) {
  t.teardown(async () => { await cleanupLabel(label) })

  t.test('images through the gateway with the docker CLI and docker-py', async t => {
    const reg = await startRegistry(t)
    const pushed: Record<string, Pushed> = {}
    for (const tag of ['run', 'pull', 'py']) pushed[tag] = await pushImage(reg, { repo: 'team/app', tag, distinct: true })
    pushed.other = await pushImage(reg, { repo: 'other/app', tag: 'pull', distinct: true })
    t.teardown(async () => { for (const p of Object.values(pushed)) await removeImage(p.ref, { force: true }) })
    for (const p of Object.values(pushed)) await removeImage(p.ref)

    const ca = await makeTestCa(t)
    const { file } = writeConfig(t, { policy: { imageAllowList: [`${reg.host}/team/*`] } })
    const gw = await startHttpsGateway(t, ca, { GATEWAY_UPSTREAM: d.url, GATEWAY_CONFIG: file })
    const token = gw.token({ sub: 'image-user', scope: `${USER_SCOPES} images:read images:pull` })
    const env = cleanEnv({ DOCKER_HOST: gw.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: ca.caOnlyDir, DOCKER_CONFIG: await dockerConfigDir(t, token) })
    const cli = async (args: string[]) => await runProcess(DOCKER, args, { env, timeoutMs: 120_000 })

    t.test('docker run of an allowed image not on the daemon: the CLI pulls it, then runs it', async t => {
      const ref = (pushed.run as Pushed).ref
      t.notOk(await hasImage(ref), 'not on the daemon before')
      const r = await cli(['run', '--rm', '--label', label.filter, ref, 'cat', '/dgw-registry-marker'])
      t.equal(r.code, 0, describeRun(r))
      t.match(r.stderr, /Unable to find image .* locally/, 'the create answered 404 and the CLI pulled')
      t.match(r.stdout, `${(pushed.run as Pushed).name}:run`, 'the container ran the pulled image')
      t.ok(await hasImage(ref), 'the daemon has the image')
    })

    t.test('docker pull: allowed, and refused with the gateway\'s message', async t => {
      const ok = await cli(['pull', (pushed.pull as Pushed).ref])
      t.equal(ok.code, 0, describeRun(ok))
      t.match(ok.stdout, /Downloaded newer image/)
      t.ok(await hasImage((pushed.pull as Pushed).ref), 'the daemon has the image')
      const refused = await cli(['pull', (pushed.other as Pushed).ref])
      t.not(refused.code, 0, describeRun(refused))
      t.match(refused.stderr, /not in the image allow-list/)
      t.notOk(await hasImage((pushed.other as Pushed).ref), 'the daemon does not have the refused image')
    })

    t.test('docker images and docker image inspect', async t => {
      const ref = (pushed.pull as Pushed).ref
      const list = await cli(['images', '--format', '{{.Repository}}:{{.Tag}}'])
      t.equal(list.code, 0, describeRun(list))
      t.ok(list.stdout.split('\n').includes(ref), `docker images lists ${ref}`)
      const inspect = await cli(['image', 'inspect', '--format', '{{.Id}}', ref])
      t.equal(inspect.code, 0, describeRun(inspect))
      t.equal(inspect.stdout.trim(), (await docker(`/images/${ref}/json`)).body.Id, 'the daemon\'s image id')
    })

    t.test('docker-py: client.images.pull and client.images.list()', async t => {
      const api = (await docker<{ ApiVersion: string }>('/version')).body.ApiVersion
      const p = pushed.py as Pushed
      const r = await runProcess(PYTHON, ['-c', PY_IMAGES, gw.url, ca.ca, token, p.name, p.tag, api], { env: cleanEnv(), timeoutMs: 120_000 })
      t.equal(r.code, 0, describeRun(r))
      const out = JSON.parse(r.stdout) as Record<string, any>
      t.ok(out.pulled.tags.includes(p.ref), `pull returned the image: ${JSON.stringify(out.pulled)}`)
      t.equal(out.pulled.id, (await docker(`/images/${p.ref}/json`)).body.Id, 'the image the daemon holds')
      t.ok(out.listed.includes(p.ref), 'images.list() lists it')
      t.match(out.refused, { status: 403, explanation: /not in the image allow-list/ }, 'a reference outside the list is an APIError 403')
      t.ok(await hasImage(p.ref))
    })
  })
}
