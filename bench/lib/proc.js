'use strict'
/**
 * Process plumbing for the benchmark: spawning children with a raised file
 * limit and a CPU pin, and reading what the kernel says they cost
 * (/proc/PID/stat for CPU time of all threads, /proc/PID/status for RSS).
 */
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')

const CLK_TCK = 100 // getconf CLK_TCK on Linux/x86_64
const NOFILE = 65536

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Wrap argv so the child runs with `ulimit -n NOFILE` and, if cpus is set, `taskset -c cpus`. */
function wrap (argv, { cpus } = {}) {
  const pinned = cpus !== undefined && cpus !== null ? ['taskset', '-c', String(cpus), ...argv] : argv
  const quoted = pinned.map((a) => `'${String(a).replaceAll("'", "'\\''")}'`).join(' ')
  // Raise the hard limit if we may (root with CAP_SYS_RESOURCE), then the soft
  // one as far as the hard one allows: 5,000 streams need ~10,000 descriptors
  // in the gateway (client side + daemon side).
  return ['/bin/sh', ['-c', `ulimit -H -n ${NOFILE} 2>/dev/null; ulimit -n ${NOFILE} 2>/dev/null || ulimit -n $(ulimit -H -n); exec ${quoted}`]]
}

/**
 * Spawn a node script with IPC. Resolves once it sends {type:'ready'}.
 * `stdout` may be a file path (the child's stdout is written there).
 */
function spawnNode (script, args = [], { cpus, execArgv = [], env = {}, stdout, stderr, readyTimeout = 30_000 } = {}) {
  const [cmd, cmdArgs] = wrap([process.execPath, ...execArgv, script, ...args], { cpus })
  const out = stdout !== undefined ? fs.openSync(stdout, 'a') : 'ignore'
  const err = stderr !== undefined ? fs.openSync(stderr, 'a') : 'inherit'
  const child = spawn(cmd, cmdArgs, { stdio: ['ignore', out, err, 'ipc'], env: { ...process.env, ...env } })
  if (typeof out === 'number') fs.closeSync(out)
  if (typeof err === 'number') fs.closeSync(err)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} did not become ready in ${readyTimeout} ms`)) }, readyTimeout)
    const onMessage = (msg) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer)
        child.off('message', onMessage)
        child.off('exit', onExit)
        resolve({ child, ready: msg, pid: msg.pid ?? child.pid })
      } else if (msg?.type === 'fatal') {
        clearTimeout(timer)
        reject(new Error(`${script}: ${msg.message}`))
      }
    }
    const onExit = (code, signal) => { clearTimeout(timer); reject(new Error(`${script} exited (${code ?? signal}) before it was ready`)) }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

/** Send {cmd} to a child and wait for its reply of the given type. */
function ask (child, msg, type, timeout = 600_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${type} reply to ${msg.cmd} within ${timeout} ms`)) }, timeout)
    const onMessage = (m) => {
      if (m?.type === type) { cleanup(); resolve(m) } else if (m?.type === 'error') { cleanup(); reject(new Error(m.message)) }
    }
    const onExit = (code, signal) => { cleanup(); reject(new Error(`child exited (${code ?? signal}) while waiting for ${type}`)) }
    const cleanup = () => { clearTimeout(timer); child.off('message', onMessage); child.off('exit', onExit) }
    child.on('message', onMessage)
    child.once('exit', onExit)
    child.send(msg)
  })
}

/** Stop a child we started: SIGTERM, then SIGKILL after `grace` ms. */
async function stop (child, grace = 5000) {
  if (child === undefined || child === null || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), grace)
  await exited
  clearTimeout(t)
}

/** utime+stime of every thread of PID, in microseconds (10 ms resolution). */
function cpuMicros (pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // comm may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * (1e6 / CLK_TCK)
  } catch {
    return NaN
  }
}

/** Sum of cpuMicros over a process and all its descendants (dockerd + containerd + shims). */
function treeCpuMicros (pid) {
  let sum = 0
  for (const p of descendants(pid)) {
    const v = cpuMicros(p)
    if (!Number.isNaN(v)) sum += v
  }
  return sum
}

function descendants (pid) {
  const out = [pid]
  for (let i = 0; i < out.length; i++) {
    let kids = ''
    try {
      for (const task of fs.readdirSync(`/proc/${out[i]}/task`)) {
        try { kids += ' ' + fs.readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8') } catch {}
      }
    } catch {}
    for (const k of kids.trim().split(/\s+/)) if (k !== '') out.push(Number(k))
  }
  return out
}

/** VmRSS / VmHWM of PID in bytes. */
function memory (pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) * 1024
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
  } catch {
    return { rss: NaN, hwm: NaN }
  }
}

/** Machine-wide busy time (all CPUs) in microseconds, from /proc/stat. */
function machineBusyMicros () {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal
  const busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
  return busy * (1e6 / CLK_TCK)
}

/** Sample RSS of pids every `every` ms until stopped; returns max VmRSS per pid. */
function rssSampler (pids, every = 200) {
  const max = new Map(pids.map((p) => [p, 0]))
  const sample = () => {
    for (const p of pids) {
      const { rss } = memory(p)
      if (rss > max.get(p)) max.set(p, rss)
    }
  }
  sample()
  const timer = setInterval(sample, every)
  return { stop () { clearInterval(timer); sample(); return max } }
}

/** A free TCP port on 127.0.0.1 (bound then released). */
function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

function waitForPort (port, timeout = 20_000) {
  const deadline = Date.now() + timeout
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => { s.destroy(); resolve() })
      s.once('error', () => {
        s.destroy()
        if (Date.now() > deadline) reject(new Error(`nothing listens on 127.0.0.1:${port} after ${timeout} ms`))
        else setTimeout(attempt, 100)
      })
    }
    attempt()
  })
}

module.exports = { CLK_TCK, NOFILE, sleep, wrap, spawnNode, ask, stop, cpuMicros, treeCpuMicros, descendants, memory, machineBusyMicros, rssSampler, freePort, waitForPort }
