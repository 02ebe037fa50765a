'use strict'
// Forced cleanup of a harness resource (a private dockerd, redis-server or registry) and
// the watchdog ("reaper") that runs it when the resource's owner dies.
//
// Plain CommonJS on purpose: the reaper is started as `node cleanup.cjs watch
// RECORD` outside tap, so it must run without the TypeScript loader and
// without tap's coverage instrumentation (NODE_OPTIONS is stripped).
//
// A resource is described by a JSON record in RECORDS_DIR:
//   { kind, name, ownerPid, ownerStart, pid, pidStart, dir, bridge? }
// `dir` is unique to the resource and appears in the command line of every
// process belonging to it (dockerd, containerd, containerd-shim -address DIR/...,
// redis-server --dir DIR, docker-registry serve DIR/config.yml), which is how strays are found after a crash.

const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const ROOT = process.env.DGW_HARNESS_ROOT || '/tmp/dgw-harness'
const RECORDS_DIR = path.join(ROOT, 'records')

/** Start time of a process (clock ticks since boot), to survive PID reuse. */
function procStart (pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // comm may contain spaces and parentheses: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[19])
  } catch {
    return undefined
  }
}

function procPpid (pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return undefined
  }
}

function procCmdline (pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
  } catch {
    return ''
  }
}

/** True when `pid` is alive and (if given) is the same process that started at `start`. */
function isAlive (pid, start) {
  if (!pid) return false
  const s = procStart(pid)
  if (s === undefined) return false
  // a zombie has exited already; its slot will be reaped by its parent
  try {
    const state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    if (state.slice(state.lastIndexOf(')') + 2).startsWith('Z')) return false
  } catch {
    return false
  }
  return start === undefined || start === s
}

function allPids () {
  return fs.readdirSync('/proc').filter(n => /^\d+$/.test(n)).map(Number)
}

/** PIDs whose command line mentions `needle`, plus all their descendants. */
function processesMentioning (needle) {
  const pids = allPids()
  const children = new Map()
  for (const pid of pids) {
    const ppid = procPpid(pid)
    if (ppid === undefined) continue
    if (!children.has(ppid)) children.set(ppid, [])
    children.get(ppid).push(pid)
  }
  const found = new Set()
  const stack = pids.filter(pid => pid !== process.pid && procCmdline(pid).includes(needle))
  while (stack.length) {
    const pid = stack.pop()
    if (found.has(pid) || pid === process.pid) continue
    found.add(pid)
    stack.push(...(children.get(pid) || []))
  }
  return [...found]
}

function kill (pid, signal) {
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  }
}

function sleepSync (ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Mount points at or below `dir`, deepest first. */
function mountsUnder (dir) {
  let text = ''
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8')
  } catch {
    return []
  }
  const prefix = dir.endsWith('/') ? dir : dir + '/'
  return text.split('\n')
    .map(line => line.split(' ')[4])
    .filter(p => p && (p === dir || p.startsWith(prefix)))
    // mountinfo escapes spaces etc. as \040; our dirs never contain them
    .sort((a, b) => b.length - a.length)
}

function linkExists (name) {
  return fs.existsSync(`/sys/class/net/${name}`)
}

/**
 * Kill every process of the resource, unmount what dockerd left mounted
 * (its data root bind mount, network namespaces under exec-root/netns), delete
 * its bridge and its directory. Idempotent; never throws.
 */
function forceCleanup (record, log = () => {}) {
  const { dir, bridge, pid, pidStart } = record
  if (!dir || !dir.startsWith(ROOT + '/')) {
    log(`refusing to clean a resource outside ${ROOT}: ${dir}`)
    return
  }
  // Find strays first, while the parent/child links are still intact:
  // docker-proxy is a child of dockerd, container processes are children of
  // containerd-shim, which re-parents itself to init.
  const strays = new Set(processesMentioning(dir.replace(/\/*$/, '/')))
  if (pid && isAlive(pid, pidStart)) {
    strays.add(pid)
    kill(-pid, 'SIGKILL') // dockerd runs in its own process group with containerd
  }
  for (const p of strays) kill(p, 'SIGKILL')
  for (let i = 0; i < 40 && [...strays].some(p => isAlive(p)); i++) sleepSync(50)

  // Empty cgroups of the containers (cgroup v1 "cgroupfs" driver layout).
  try {
    const ids = fs.readdirSync(path.join(dir, 'data', 'containers'))
    for (const ctrl of fs.readdirSync('/sys/fs/cgroup')) {
      for (const id of ids) {
        try { fs.rmdirSync(path.join('/sys/fs/cgroup', ctrl, 'docker', id)) } catch {}
      }
    }
  } catch {}

  for (const m of mountsUnder(dir)) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' })
    } catch (err) {
      log(`umount ${m}: ${err.message}`)
    }
  }
  if (bridge && /^br-dgw\d+$/.test(bridge) && linkExists(bridge)) {
    try {
      execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' })
    } catch (err) {
      log(`ip link del ${bridge}: ${err.message}`)
    }
  }
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
  } catch (err) {
    log(`rm -rf ${dir}: ${err.message}`)
  }
}

function readRecord (file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}

function listRecords () {
  try {
    return fs.readdirSync(RECORDS_DIR).filter(n => n.endsWith('.json')).map(n => path.join(RECORDS_DIR, n))
  } catch {
    return []
  }
}

/** A record is stale when its owner process is gone (or the file is unreadable and old). */
function isStale (file, record) {
  if (!record) {
    try {
      return Date.now() - fs.statSync(file).mtimeMs > 30_000
    } catch {
      return false
    }
  }
  return !isAlive(record.ownerPid, record.ownerStart)
}

/**
 * Clean what crashed or killed runs left behind: resources whose owner died,
 * br-dgw* bridges and directories that no record and no process refers to.
 * Resources of live owners (a concurrent run, another developer) are left alone.
 */
function cleanupStale (log = () => {}) {
  const claimed = new Set()
  for (const file of listRecords()) {
    const record = readRecord(file)
    if (isStale(file, record)) {
      const name = path.basename(file, '.json')
      const index = /^d(\d+)$/.exec(name)
      const fallback = { dir: path.join(ROOT, name), bridge: index ? `br-dgw${index[1]}` : undefined }
      log(`cleaning stale ${path.basename(file)} (owner ${record ? record.ownerPid : '?'} is gone)`)
      forceCleanup(record || fallback, log)
      try { fs.unlinkSync(file) } catch {}
    } else if (record) {
      if (record.bridge) claimed.add(record.bridge)
      claimed.add(path.resolve(record.dir))
    }
  }
  let links = []
  try { links = fs.readdirSync('/sys/class/net') } catch {}
  for (const link of links) {
    if (!/^br-dgw\d+$/.test(link) || claimed.has(link)) continue
    // Someone may run a dockerd by hand on such a bridge: leave it if in use.
    // (the joined command line ends every argument with a space: exact match)
    if (processesMentioning(`--bridge ${link} `).length || processesMentioning(`--bridge=${link} `).length) continue
    log(`deleting orphan bridge ${link}`)
    try { execFileSync('ip', ['link', 'del', link], { stdio: 'ignore' }) } catch {}
  }
  let dirs = []
  try { dirs = fs.readdirSync(ROOT) } catch {}
  for (const name of dirs) {
    if (name === 'records') continue
    const dir = path.join(ROOT, name)
    if (claimed.has(dir)) continue
    // a resource being created right now has its record written first
    if (fs.existsSync(path.join(RECORDS_DIR, name + '.json'))) continue
    if (processesMentioning(dir + '/').length) continue
    log(`removing orphan directory ${dir}`)
    forceCleanup({ dir }, log)
  }
}

/**
 * Reaper: poll until the record disappears (normal teardown) or its owner dies
 * (crash, timeout kill, Ctrl-C), then clean up the resource.
 */
function watch (file) {
  const tick = () => {
    const record = readRecord(file)
    if (!fs.existsSync(file)) process.exit(0)
    if (record && !isAlive(record.ownerPid, record.ownerStart)) {
      forceCleanup(record)
      try { fs.unlinkSync(file) } catch {}
      process.exit(0)
    }
  }
  setInterval(tick, 500)
  tick()
}

module.exports = {
  ROOT,
  RECORDS_DIR,
  procStart,
  isAlive,
  processesMentioning,
  mountsUnder,
  forceCleanup,
  cleanupStale,
  readRecord,
  listRecords
}

if (require.main === module) {
  const [cmd, arg] = process.argv.slice(2)
  if (cmd === 'watch' && arg) watch(arg)
  else if (cmd === 'stale') cleanupStale(msg => console.error(`[harness] ${msg}`))
  else {
    console.error('usage: node cleanup.cjs watch RECORD | stale')
    process.exit(2)
  }
}
