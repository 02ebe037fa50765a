import { boolAt, isObj, listAt, numAt, objAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { goToUpper } from './go-json'
import type { Violation } from './types'

/**
 * Resource caps, shared by create (HostConfig) and update (top level): what a
 * container may take from the host, and what `POST /containers/{id}/update`
 * must not raise later. 0 in a cap means "no cap".
 *
 * Docker's own encodings matter: Memory/NanoCpus 0 mean unset; PidsLimit
 * null or 0 on create means unset (verified on 20.10: it is stored as null),
 * while on update 0 and -1 both mean "unlimited"; CpuQuota -1 means no quota
 * and, applied after NanoCpus when the spec is built (daemon/oci_linux.go
 * getCPUResources), overrides it; a quota counts per CpuPeriod (default
 * 100000 µs), so CPUs = CpuQuota / CpuPeriod.
 */

type Limits = PolicyRules['resources']
export type ResourceMode = 'create' | 'update'

const DEFAULT_CPU_PERIOD = 100_000
/** Highest CpuShares and BlkioWeight: the kernel's default weights. */
export const WEIGHT_CAPS: ReadonlyArray<readonly [string, number]> = [['CpuShares', 1024], ['BlkioWeight', 500]]
/** The daemon refuses a CpuQuota below 1000 µs. */
const MIN_CPU_QUOTA = 1000

export function checkResources (r: Obj | undefined, limits: Limits, mode: ResourceMode, prefix: string): Violation[] {
  const out: Violation[] = []
  const f = (key: string): string => `${prefix}${key}`
  const push = (key: string, message: string): void => { out.push({ rule: 'resources', field: f(key), message }) }

  const memory = numAt(r, 'Memory')
  if (memory !== undefined && memory < 0) push('Memory', `${f('Memory')}=${memory} is not allowed (negative)`)
  else if (memory !== undefined && limits.maxMemory > 0 && memory > limits.maxMemory) {
    push('Memory', `${f('Memory')}=${memory} (${bytes(memory)}) is above the maximum ${limits.maxMemory} (${bytes(limits.maxMemory)})`)
  }

  // MemorySwap is memory+swap, not swap alone (Docker docs, --memory-swap):
  // -1 is unlimited, 0 unset, and a positive value must be at least Memory.
  // Issue 10 finding 6: a positive value had no cap (1 PiB was accepted).
  const swap = numAt(r, 'MemorySwap')
  const swapCap = maxMemorySwap(limits)
  if (swap !== undefined && swap < 0 && (limits.maxMemory > 0 || swapCap > 0)) {
    // Unlimited swap: the memory cap would only bound RAM, not what the
    // container can push to the host's swap.
    push('MemorySwap', `${f('MemorySwap')}=${swap} is not allowed (unlimited swap bypasses the memory cap)`)
  } else if (swap !== undefined && swap > 0) {
    if (swapCap > 0 && swap > swapCap) {
      push('MemorySwap', `${f('MemorySwap')}=${swap} (${bytes(swap)}) is above the maximum ${swapCap} (${bytes(swapCap)}) for memory+swap`)
    } else if (memory !== undefined && memory > 0 && swap < memory) {
      // dockerd refuses this too ("Minimum memoryswap limit should be larger than memory limit").
      push('MemorySwap', `${f('MemorySwap')}=${swap} is below ${f('Memory')}=${memory} (MemorySwap is memory+swap, so it must be at least Memory)`)
    }
  }

  // /dev/shm is a tmpfs in host RAM whose size dockerd takes from the body or
  // from its own --default-shm-size; HostConfig only.
  const shm = numAt(r, 'ShmSize')
  if (shm !== undefined && shm < 0) push('ShmSize', `${f('ShmSize')}=${shm} is not allowed (negative)`)
  else if (shm !== undefined && limits.maxTmpfsSize > 0 && shm > limits.maxTmpfsSize) {
    push('ShmSize', `${f('ShmSize')}=${shm} (${bytes(shm)}) is above the maximum ${limits.maxTmpfsSize} (${bytes(limits.maxTmpfsSize)})`)
  }

  const maxCpu = limits.maxNanoCpus
  const nano = numAt(r, 'NanoCpus')
  if (nano !== undefined && nano < 0) push('NanoCpus', `${f('NanoCpus')}=${nano} is not allowed (negative)`)
  else if (nano !== undefined && maxCpu > 0 && nano > maxCpu) {
    push('NanoCpus', `${f('NanoCpus')}=${nano} (${cpus(nano)}) is above the maximum ${maxCpu} (${cpus(maxCpu)})`)
  }
  const quota = numAt(r, 'CpuQuota') ?? 0
  const period = numAt(r, 'CpuPeriod') ?? 0
  if (maxCpu > 0) {
    if (quota < 0) {
      push('CpuQuota', `${f('CpuQuota')}=${quota} is not allowed (a negative quota removes the CPU limit)`)
    } else if (mode === 'update' && (quota > 0) !== (period > 0)) {
      // The container's current period or quota is unknown here, and changing
      // one alone changes the CPUs (quota 50000 with period 1000 is 50 CPUs).
      const key = quota > 0 ? 'CpuQuota' : 'CpuPeriod'
      push(key, `${f(key)} must be updated together with ${quota > 0 ? 'CpuPeriod' : 'CpuQuota'} so the CPU limit can be checked`)
    } else if (quota > 0) {
      const effective = quota * 1e9 / (period > 0 ? period : DEFAULT_CPU_PERIOD)
      if (effective > maxCpu) {
        push('CpuQuota', `${f('CpuQuota')}=${quota} per CpuPeriod=${period > 0 ? period : DEFAULT_CPU_PERIOD} (${cpus(effective)}) is above the maximum ${cpus(maxCpu)}`)
      }
    }
  }

  const pids = numAt(r, 'PidsLimit')
  if (pids !== undefined && limits.maxPidsLimit > 0) {
    if (pids < 0 || (pids === 0 && mode === 'update')) {
      push('PidsLimit', `${f('PidsLimit')}=${pids} is not allowed (it means unlimited; the maximum is ${limits.maxPidsLimit})`)
    } else if (pids > limits.maxPidsLimit) {
      push('PidsLimit', `${f('PidsLimit')}=${pids} is above the maximum ${limits.maxPidsLimit}`)
    }
  }

  // Weights share the host among siblings under contention. A tenant may
  // lower its own below the default, never raise it above everyone else's:
  // 1024 is the cgroup cpu.shares default (and dockerd's), 500 the blkio.weight
  // default (cgroup v1 CFQ; runc maps it to io.weight on v2). 0 = default.
  for (const [key, max] of WEIGHT_CAPS) {
    const v = numAt(r, key) ?? 0
    if (v < 0 || v > max) push(key, `${f(key)}=${v} is not allowed (0 for the default, else at most ${max}, the default weight: a container may lower its share, not raise it above others')`)
  }

  for (const key of ['CpuRealtimePeriod', 'CpuRealtimeRuntime']) {
    // Real-time scheduling can starve every other process on the host.
    const v = numAt(r, key) ?? 0
    if (v !== 0) out.push({ rule: 'cpu-realtime', field: f(key), message: `${f(key)}=${v} is not allowed (real-time CPU scheduling)` })
  }
  if (boolAt(r, 'OomKillDisable') === true) {
    // Without the container's OOM killer the host's kills other processes.
    out.push({ rule: 'oom-kill-disable', field: f('OomKillDisable'), message: `${f('OomKillDisable')}=true is not allowed` })
  }
  const parent = strAt(r, 'CgroupParent') ?? ''
  if (parent !== '') {
    out.push({ rule: 'cgroup-parent', field: f('CgroupParent'), message: `${f('CgroupParent')}=${JSON.stringify(parent)} is not allowed (it places the container outside the daemon's cgroup and its limits)` })
  }
  return out
}

/** The memory+swap cap: maxMemorySwap, or 2 x maxMemory when it is absent (Docker's own ratio); 0 = none. */
export function maxMemorySwap (limits: Limits): number {
  return limits.maxMemorySwap ?? 2 * limits.maxMemory
}

/** Fill in what the body left unset, so every created container is capped. */
export function injectResourceDefaults (hc: Obj, limits: Limits): void {
  const dflt = (def: number, max: number): number => def > 0 ? def : max
  const memory = dflt(limits.defaultMemory, limits.maxMemory)
  const askedSwap = numAt(hc, 'MemorySwap') ?? 0
  // A body that gives only MemorySwap (memory+swap) gets a Memory within it, as dockerd requires.
  if (memory > 0 && !((numAt(hc, 'Memory') ?? 0) > 0)) hc.Memory = askedSwap > 0 ? Math.min(memory, askedSwap) : memory

  const cpu = dflt(limits.defaultNanoCpus, limits.maxNanoCpus)
  const quota = numAt(hc, 'CpuQuota') ?? 0
  const period = numAt(hc, 'CpuPeriod') ?? 0
  if (cpu > 0 && !((numAt(hc, 'NanoCpus') ?? 0) > 0) && quota === 0) {
    // The daemon refuses NanoCpus next to CpuPeriod, so honour the period.
    if (period > 0) hc.CpuQuota = Math.max(MIN_CPU_QUOTA, Math.round(cpu * period / 1e9))
    else hc.NanoCpus = cpu
  }

  const pids = dflt(limits.defaultPidsLimit, limits.maxPidsLimit)
  if (pids > 0 && !((numAt(hc, 'PidsLimit') ?? 0) > 0)) hc.PidsLimit = pids

  // dockerd turns MemorySwap 0 into 2 x Memory (daemon_unix.go
  // adaptContainerSettings) and drops it where swap accounting is off:
  // make that explicit and within maxMemorySwap, never below Memory.
  const mem = numAt(hc, 'Memory') ?? 0
  if (mem > 0 && (numAt(hc, 'MemorySwap') ?? 0) === 0) {
    const cap = maxMemorySwap(limits) > 0 ? maxMemorySwap(limits) : Infinity
    hc.MemorySwap = Math.max(mem, Math.min(2 * mem, cap))
  }

  // The daemon's --default-shm-size differs per host (64 MiB unless set).
  if (limits.defaultShmSize > 0 && !((numAt(hc, 'ShmSize') ?? 0) > 0)) hc.ShmSize = limits.defaultShmSize
}

/**
 * The daemon, running as root, can raise any rlimit; names are case-folded
 * with Go's ToUpper into RLIMIT_<NAME>. Only listed names, within their cap,
 * and never -1 (unlimited).
 */
export function checkUlimits (r: Obj | undefined, caps: PolicyRules['ulimitCaps'], prefix: string): Violation[] {
  const out: Violation[] = []
  const capOf = new Map(Object.entries(caps).map(([k, v]) => [goToUpper(k), v]))
  ;(listAt(r, 'Ulimits') ?? []).forEach((u, i) => {
    if (!isObj(u)) return
    const field = `${prefix}Ulimits[${i}]`
    const name = strAt(u, 'Name') ?? ''
    const cap = capOf.get(goToUpper(name))
    if (cap === undefined) {
      out.push({ rule: 'ulimits', field, message: `${field} sets ulimit ${JSON.stringify(name)}, which is not allowed (allowed: ${Object.keys(caps).join(', ') || 'none'})` })
      return
    }
    for (const key of ['Soft', 'Hard']) {
      const v = numAt(u, key) ?? 0
      if (v < 0 || v > cap) {
        out.push({ rule: 'ulimits', field: `${field}.${key}`, message: `${field}.${key}=${v} for ${JSON.stringify(name)} is above the cap ${cap}${v < 0 ? ' (negative means unlimited)' : ''}` })
      }
    }
  })
  return out
}

const RESTART_POLICIES = ['', 'no', 'always', 'unless-stopped', 'on-failure']

/** The restart policies the daemon documents, and a retry count only with on-failure. */
export function checkRestartPolicy (r: Obj | undefined, prefix: string): Violation[] {
  const rp = objAt(r, 'RestartPolicy')
  if (rp === undefined) return []
  const field = `${prefix}RestartPolicy`
  const name = strAt(rp, 'Name') ?? ''
  const retries = numAt(rp, 'MaximumRetryCount') ?? 0
  if (!RESTART_POLICIES.includes(name)) {
    return [{ rule: 'restart-policy', field: `${field}.Name`, message: `${field}.Name=${JSON.stringify(name)} is not a restart policy (allowed: ${RESTART_POLICIES.map(p => JSON.stringify(p)).join(', ')})` }]
  }
  if (retries < 0 || (retries > 0 && name !== 'on-failure')) {
    return [{ rule: 'restart-policy', field: `${field}.MaximumRetryCount`, message: `${field}.MaximumRetryCount=${retries} is only allowed, non-negative, with Name "on-failure"` }]
  }
  return []
}

/** Negative OomScoreAdj shields the container from the OOM killer at the host's expense. */
export function checkOomScoreAdj (hc: Obj | undefined): Violation[] {
  const v = numAt(hc, 'OomScoreAdj') ?? 0
  return v < 0 ? [{ rule: 'oom-score-adj', field: 'HostConfig.OomScoreAdj', message: `HostConfig.OomScoreAdj=${v} is not allowed (negative values protect the container at the host's expense)` }] : []
}

function bytes (n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size) return `${+(n / size).toFixed(2)} ${unit}`
  }
  return `${n} B`
}

function cpus (nano: number): string {
  const n = +(nano / 1e9).toFixed(3)
  return `${n} CPU${n === 1 ? '' : 's'}`
}
