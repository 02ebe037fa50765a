'use strict'
/**
 * The benchmark's own Docker daemon: private data root, exec root, pid file,
 * TCP port and unix socket under one directory in /tmp, and its own bridge
 * (another daemon on this machine may own docker0; `--bridge none` would
 * delete docker0 under it). Storage driver vfs, so an export really reads
 * every byte back from disk. Torn down completely by stop().
 *
 * With BENCH_DOCKER_HOST set, that daemon is used instead and only the
 * containers this run created (label dgw.bench=1) are removed at the end.
 */
const fs = require('node:fs')
const path = require('node:path')
const { spawn, execFile } = require('node:child_process')
const { sleep } = require('./proc')

const BRIDGE = 'br-dgwbench'
const BRIDGE_CIDR = '172.30.9.1/24'
const IMAGE = 'dgw-busybox:test'
const LABEL = 'dgw.bench=1'

function run (cmd, args, { input, env, timeout = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err !== null) {
        err.message = `${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`
        reject(err)
      } else resolve(stdout.trim())
    })
    if (input !== undefined) input(child.stdin)
    else child.stdin.end()
  })
}

function docker (host, args, opts = {}) {
  return run('docker', args, { ...opts, env: { DOCKER_HOST: host, DOCKER_CONFIG: '/tmp/dgwbench-dockercfg' } })
}

async function ping (tcpHost) {
  const url = tcpHost.replace(/^tcp:/, 'http:') + '/_ping'
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
    return res.status === 200
  } catch { return false }
}

function alive (pid) {
  try { process.kill(pid, 0); return true } catch { return false }
}

function cmdline (pid) {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ') } catch { return '' }
}

/** Unmount whatever a crashed daemon left mounted under dir, deepest first. */
function unmountUnder (dir) {
  let mounts = []
  try {
    mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m !== undefined && (m === dir || m.startsWith(dir + '/')))
  } catch {}
  mounts.sort((a, b) => b.length - a.length)
  return Promise.all(mounts.map((m) => run('umount', ['-l', m]).catch(() => {})))
}

async function removeBridge () {
  await run('ip', ['link', 'del', BRIDGE]).catch(() => {})
}

/** Kill a daemon a previous, crashed run of this harness left behind (it is ours: same dir). */
async function reapStale (dir) {
  const pidfile = path.join(dir, 'pid')
  if (fs.existsSync(pidfile)) {
    const pid = Number(fs.readFileSync(pidfile, 'utf8').trim())
    if (pid > 0 && alive(pid) && cmdline(pid).includes(dir)) {
      process.kill(pid, 'SIGTERM')
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(100)
      if (alive(pid)) process.kill(pid, 'SIGKILL')
    }
  }
  await unmountUnder(dir)
  await removeBridge()
  fs.rmSync(dir, { recursive: true, force: true })
}

async function startPrivateDockerd ({ dir, port, log }) {
  await reapStale(dir)
  fs.mkdirSync(dir, { recursive: true })
  await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge'])
  await run('ip', ['addr', 'add', BRIDGE_CIDR, 'dev', BRIDGE])
  await run('ip', ['link', 'set', BRIDGE, 'up'])
  const socket = path.join(dir, 'docker.sock')
  const args = [
    '-H', `tcp://127.0.0.1:${port}`, '-H', `unix://${socket}`,
    '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'e'),
    '--pidfile', path.join(dir, 'pid'), '--storage-driver', 'vfs',
    '--bridge', BRIDGE, '--iptables=false', '--ip-masq=false', '--ip-forward=false',
    '--shutdown-timeout', '2', '--log-level', 'warn'
  ]
  const out = fs.openSync(log, 'a')
  const child = spawn('dockerd', args, { stdio: ['ignore', out, out] })
  fs.closeSync(out)
  const tcp = `tcp://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (await ping(tcp)) break
    if (child.exitCode !== null) throw new Error(`dockerd exited (${child.exitCode}); see ${log}`)
    if (i > 300) throw new Error(`dockerd did not answer /_ping within 30 s; see ${log}`)
    await sleep(100)
  }
  return { tcp, unix: `unix://${socket}`, socketPath: socket, pid: child.pid, child, dir, private: true }
}

async function stopPrivateDockerd (d) {
  if (d?.child !== undefined && d.child.exitCode === null) {
    const exited = new Promise((resolve) => d.child.once('exit', resolve))
    d.child.kill('SIGTERM')
    const t = setTimeout(() => d.child.kill('SIGKILL'), 20_000)
    await exited
    clearTimeout(t)
  }
  await unmountUnder(d.dir)
  await removeBridge()
  await run('rm', ['-rf', '--one-file-system', d.dir]).catch(() => {})
}

/** Import the busybox test image if the daemon lacks it (no registry is reachable here). */
async function ensureImage (host, workDir) {
  const have = await docker(host, ['image', 'inspect', IMAGE]).then(() => true, () => false)
  if (have) return 'present'
  const root = path.join(workDir, 'rootfs')
  fs.rmSync(root, { recursive: true, force: true })
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true })
  fs.mkdirSync(path.join(root, 'tmp'))
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'))
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755)
  const applets = (await run('/bin/busybox', ['--list'])).split('\n').filter((a) => a !== '' && a !== 'busybox')
  for (const a of applets) fs.symlinkSync('busybox', path.join(root, 'bin', a))
  const tar = spawn('tar', ['-C', root, '-c', '.'])
  await docker(host, ['import', '-', IMAGE], { input: (stdin) => tar.stdout.pipe(stdin) })
  fs.rmSync(root, { recursive: true, force: true })
  return 'imported'
}

/** n running containers (sleep), labelled for the run and owned by `owner` for the gateway's ownership check. */
async function createContainers (host, n, owner, prefix) {
  const ids = []
  for (let i = 0; i < n; i += 10) {
    const batch = []
    for (let j = i; j < Math.min(n, i + 10); j++) {
      batch.push(docker(host, ['run', '-d', '--name', `${prefix}-${j}`, '--label', LABEL, '--label', `docker-gateway.owner=${owner}`, IMAGE, 'sleep', '86400']))
    }
    ids.push(...await Promise.all(batch))
  }
  return ids
}

/** A stopped container whose filesystem holds `mib` MiB of random data in /big. */
async function createBigContainer (host, mib, owner, name) {
  await docker(host, ['run', '--name', name, '--label', LABEL, '--label', `docker-gateway.owner=${owner}`, IMAGE, 'dd', 'if=/dev/urandom', 'of=/big', 'bs=1M', `count=${mib}`])
  return docker(host, ['inspect', '--format', '{{.Id}}', name])
}

async function removeBenchContainers (host) {
  const ids = (await docker(host, ['ps', '-aq', '--filter', `label=${LABEL}`]).catch(() => '')).split('\n').filter(Boolean)
  for (let i = 0; i < ids.length; i += 20) await docker(host, ['rm', '-f', ...ids.slice(i, i + 20)]).catch(() => {})
  return ids.length
}

module.exports = { IMAGE, LABEL, BRIDGE, docker, ping, startPrivateDockerd, stopPrivateDockerd, ensureImage, createContainers, createBigContainer, removeBenchContainers }
