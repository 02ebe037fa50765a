// docker cp through the gateway (issue 13 item 3), with the docker CLI and
// docker-py as users run them, over HTTPS with a test CA. What landed in the
// container is read back inside it with exec, straight on the daemon; what
// landed on the host is read from disk.
import crypto from 'node:crypto'
import { chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { Agent, request } from 'undici'
import { engineRequest } from '../../harness/engine'
import { cleanupLabel, docker, testLabel } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startHttpsGateway } from '../../helpers/tls'
import { demux, makeTar } from '../../helpers/tar'
import { cleanEnv, describeRun, dockerConfigDir, runProcess, startClientGateway, USER_SCOPES, type RunResult } from '../../helpers/clients/clients'

const DOCKER = '/usr/local/bin/docker'
// /usr/bin/python3 on purpose: a pyenv python earlier on PATH may carry another docker-py.
const PYTHON = '/usr/bin/python3'
const d = requireDaemon(t)
const label = testLabel(__filename)

if (d !== undefined) {
  t.teardown(async () => { await cleanupLabel(label) })

  /** A command in the container, run on the daemon directly (not through the gateway). */
  const execIn = async (id: string, cmd: string[]): Promise<{ stdout: string, stderr: string }> => {
    const created = await docker<{ Id: string }>(`/containers/${id}/exec`, { json: { Cmd: cmd, AttachStdout: true, AttachStderr: true } })
    return demux((await engineRequest(d, `/exec/${created.body.Id}/start`, { method: 'POST', json: { Detach: false, Tty: false } })).body)
  }

  t.test('docker cp and docker-py archives through the gateway', async t => {
    const sub = `cp-${label.value}`
    const { ca, gw, token } = await startClientGateway(t, d, sub, { GATEWAY_DOCKER_CP: 'on' })
    const config = await dockerConfigDir(t, token)
    const env = cleanEnv({ DOCKER_HOST: gw.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: ca.caOnlyDir, DOCKER_CONFIG: config })
    const cli = async (args: string[], cliEnv: NodeJS.ProcessEnv = env): Promise<RunResult> => await runProcess(DOCKER, args, { env: cliEnv, timeoutMs: 60_000 })
    const ok = async (t: tap.Test, args: string[]): Promise<string> => {
      const r = await cli(args)
      t.equal(r.code, 0, `docker ${args.join(' ')}: ${describeRun(r)}`)
      return r.stdout
    }
    // For the calls no CLI makes on its own: undici trusting the test CA.
    const dispatcher = new Agent({ connect: { ca: ca.caPem } })
    t.teardown(async () => { await dispatcher.close() })
    const work = await mkdtemp(path.join(tmpdir(), 'dgw-cp-'))
    t.teardown(async () => { await rm(work, { recursive: true, force: true }) })

    const name = `${label.value}-cp`
    const id = (await ok(t, ['run', '-d', '--label', label.filter, '--name', name, d.image, 'sh', '-c', 'mkdir -p /data/out/sub && echo made-inside > /data/out/a.txt && echo deeper > /data/out/sub/b.txt && exec sleep 600'])).trim()
    t.match(id, /^[0-9a-f]{64}$/)
    await execIn(id, ['sh', '-c', 'while [ ! -f /data/out/sub/b.txt ]; do sleep 0.1; done'])

    t.test('docker cp FILE container:DIR', async t => {
      const file = path.join(work, 'hello.txt')
      await writeFile(file, 'hello from the host\n')
      await ok(t, ['cp', file, `${name}:/data/`])
      t.equal((await execIn(id, ['cat', '/data/hello.txt'])).stdout, 'hello from the host\n', 'in the container')
    })

    t.test('docker cp DIR container:PATH (a tree, binary content, a symlink)', async t => {
      const dir = path.join(work, 'tree')
      await mkdir(path.join(dir, 'nested', 'deeper'), { recursive: true })
      const blob = crypto.randomBytes(300_000)
      await writeFile(path.join(dir, 'top.txt'), 'top\n')
      await writeFile(path.join(dir, 'nested', 'deeper', 'blob.bin'), blob)
      await ok(t, ['cp', dir, `${name}:/data/tree`])
      const listing = await execIn(id, ['find', '/data/tree'])
      t.same(listing.stdout.trim().split('\n').sort(), ['/data/tree', '/data/tree/nested', '/data/tree/nested/deeper', '/data/tree/nested/deeper/blob.bin', '/data/tree/top.txt'])
      t.equal((await execIn(id, ['cat', '/data/tree/top.txt'])).stdout, 'top\n')
      const sum = crypto.createHash('md5').update(blob).digest('hex')
      t.match((await execIn(id, ['md5sum', '/data/tree/nested/deeper/blob.bin'])).stdout, new RegExp(`^${sum} `), 'the binary file arrived byte for byte')
    })

    // dockerd keeps the tar's owner without copyUIDGID, and with it gives the
    // files to the container's configured user (daemon/archive.go tarCopyOptions).
    t.test('docker cp -a (copyUIDGID) reaches the daemon: the container\'s user owns the files', async t => {
      const userName = `${label.value}-user`
      // Created, not started: docker cp works on a stopped container (its root is not readable by 65534 to run anything).
      const userId = (await ok(t, ['create', '--label', label.filter, '--name', userName, '--user', '65534', d.image, 'sleep', '600'])).trim()
      /** uid:gid of a file, from the tar header the daemon itself sends. */
      const owner = async (file: string): Promise<string> => {
        const header = (await engineRequest(d, `/containers/${userId}/archive`, { query: { path: file } })).body
        const field = (offset: number): number => parseInt(header.subarray(offset, offset + 8).toString('latin1'), 8)
        return `${field(108)}:${field(116)}`
      }
      const file = path.join(work, 'owned.txt')
      await writeFile(file, 'owned\n')
      await chown(file, 1234, 5678)
      await ok(t, ['cp', '-a', file, `${userName}:/owned-a.txt`])
      await ok(t, ['cp', file, `${userName}:/owned-plain.txt`])
      t.equal(await owner('/owned-a.txt'), '65534:65534', 'with -a: the container\'s user, 65534 (dockerd looks it up on its host: getent passwd 65534)')
      t.equal(await owner('/owned-plain.txt'), '1234:5678', 'without: the owner in the tar')
    })

    t.test('docker cp container:FILE HOSTPATH and container:DIR HOSTDIR', async t => {
      const outFile = path.join(work, 'a-copy.txt')
      await ok(t, ['cp', `${name}:/data/out/a.txt`, outFile])
      t.equal(await readFile(outFile, 'utf8'), 'made-inside\n')
      const outDir = path.join(work, 'out-copy')
      await ok(t, ['cp', `${name}:/data/out`, outDir])
      t.equal(await readFile(path.join(outDir, 'a.txt'), 'utf8'), 'made-inside\n')
      t.equal(await readFile(path.join(outDir, 'sub', 'b.txt'), 'utf8'), 'deeper\n')
      // To stdout as a tar: the stream passes through unchanged.
      const r = await cli(['cp', `${name}:/data/out/sub/b.txt`, '-'])
      t.equal(r.code, 0, `exit ${String(r.code)}: ${r.stderr}`)
      t.match(r.stdout, /^b\.txt\0/, 'a tar whose first entry is b.txt')
      t.match(r.stdout, /deeper\n/, 'holding the file')
    })

    t.test('docker cp of a path that does not exist: the daemon\'s error', async t => {
      const r = await cli(['cp', `${name}:/no/such/file`, path.join(work, 'nothing')])
      t.not(r.code, 0)
      t.match(r.stderr, /Could not find the file \/no\/such\/file in container/)
    })

    t.test('HEAD relays the path\'s stat header', async t => {
      const res = await request(`${gw.url}/containers/${name}/archive?path=/data/out/a.txt`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` }, dispatcher })
      t.equal(res.statusCode, 200)
      const header = res.headers['x-docker-container-path-stat']
      t.type(header, 'string')
      t.match(JSON.parse(Buffer.from(String(header), 'base64').toString('utf8')), { name: 'a.txt', size: 12 })
      await res.body.dump()
    })

    t.test('noOverwriteDirNonDir is passed through', async t => {
      await execIn(id, ['mkdir', '-p', '/data/clash'])
      const tar = makeTar([{ name: 'clash', body: 'a file where a directory is' }])
      const put = async (flag: string): Promise<{ status: number, text: string }> => {
        const res = await request(`${gw.url}/containers/${name}/archive?path=/data&noOverwriteDirNonDir=${flag}`, {
          method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar' }, body: tar, dispatcher
        })
        return { status: res.statusCode, text: await res.body.text() }
      }
      const refused = await put('true')
      t.not(refused.status, 200)
      t.match(refused.text, /cannot overwrite directory .*clash.* with non-directory/)
      t.equal((await execIn(id, ['sh', '-c', 'test -d /data/clash && echo dir'])).stdout, 'dir\n', 'the directory is still there')
    })

    t.test('docker-py: put_archive and get_archive', async t => {
      const api = (await docker<{ ApiVersion: string }>('/version')).body.ApiVersion
      const script = `
import io, json, sys, tarfile, docker
url, ca, token, api, name = sys.argv[1:6]
client = docker.DockerClient(base_url=url, tls=docker.tls.TLSConfig(ca_cert=ca, verify=True), version=api, timeout=60)
client.api.headers['Authorization'] = 'Bearer ' + token
c = client.containers.get(name)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as tar:
    data = b'from docker-py\\n'
    info = tarfile.TarInfo('py.txt')
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
out = {'put': c.put_archive('/data', buf.getvalue())}
chunks, st = c.get_archive('/data/out/a.txt')
raw = b''.join(chunks)
with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
    member = tar.getmembers()[0]
    out['got_name'] = member.name
    out['got'] = tar.extractfile(member).read().decode()
out['stat'] = st
print(json.dumps(out))
`
      const r = await runProcess(PYTHON, ['-c', script, gw.url, ca.ca, token, api, name], { env: cleanEnv(), timeoutMs: 60_000 })
      t.equal(r.code, 0, describeRun(r))
      const out = JSON.parse(r.stdout) as { put: boolean, got_name: string, got: string, stat: { name: string, size: number } }
      t.equal(out.put, true, 'put_archive returned True')
      t.equal((await execIn(id, ['cat', '/data/py.txt'])).stdout, 'from docker-py\n', 'put_archive wrote the file in the container')
      t.equal(out.got_name, 'a.txt')
      t.equal(out.got, 'made-inside\n', 'get_archive read the container\'s file')
      t.match(out.stat, { name: 'a.txt', size: 12 }, 'get_archive\'s stat, from the relayed header')
    })

    t.test('docker cp over limits.archiveUploadBytes: a clear error, no partial file', async t => {
      const small = await startHttpsGateway(t, ca, { GATEWAY_UPSTREAM: d.url, GATEWAY_ARCHIVE_UPLOAD_BYTES: String(256 * 1024), GATEWAY_DOCKER_CP: 'on' })
      const smallConfig = await dockerConfigDir(t, small.token({ sub, scope: USER_SCOPES }))
      const smallEnv = cleanEnv({ DOCKER_HOST: small.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: ca.caOnlyDir, DOCKER_CONFIG: smallConfig })
      const dir = path.join(work, 'too-big')
      await mkdir(dir)
      await writeFile(path.join(dir, 'a-small.txt'), 'small\n')
      await writeFile(path.join(dir, 'b-big.bin'), crypto.randomBytes(1024 * 1024))
      t.ok((await stat(path.join(dir, 'b-big.bin'))).size > 256 * 1024)
      const r = await cli(['cp', dir, `${name}:/data/too-big`], smallEnv)
      t.not(r.code, 0, 'docker cp fails')
      t.match(r.stderr, /larger than limits\.archiveUploadBytes \(262144 bytes\)/, `the CLI prints the gateway's reason: ${r.stderr.trim()}`)
      // The CLI's tar holds the directory, a-small.txt, then b-big.bin: the cut is before b-big.bin's header.
      const left = await execIn(id, ['sh', '-c', 'find /data/too-big 2>/dev/null | sort; true'])
      t.equal(left.stdout, '/data/too-big\n/data/too-big/a-small.txt\n', 'the entries before the cut, and no partial big file')
      t.equal((await execIn(id, ['cat', '/data/too-big/a-small.txt'])).stdout, 'small\n', 'whole')
    })
  })
}
