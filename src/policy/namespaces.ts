import { listAt, objAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { formatPath } from './strict-json'
import type { ContainerRef, Violation } from './types'

/**
 * Namespace modes and every field that names another container.
 *
 * `host` hands the container a host namespace: the host network (services on
 * 127.0.0.1, abstract unix sockets such as containerd-shim's, CVE-2020-15257),
 * every host process (PidMode), host SysV IPC, the host's hostname, no user
 * namespace remapping (container root = host root), the host cgroup namespace
 * (release_agent escapes, CVE-2022-0492). `container:<x>` joins another
 * container's namespace, VolumesFrom inherits all its mounts and Links copy
 * its environment: those are returned as references the caller must own.
 */

interface ModeRule {
  field: string
  /** Plain values allowed besides `container:<x>`; null = any value but host. */
  plain: readonly string[] | null
  joins: boolean
  host: string
}

const MODES: readonly ModeRule[] = [
  { field: 'NetworkMode', plain: null, joins: true, host: "shares the host's network stack" },
  { field: 'PidMode', plain: [''], joins: true, host: "shows and signals every host process" },
  { field: 'IpcMode', plain: ['', 'none', 'private', 'shareable'], joins: true, host: "shares the host's IPC and shared memory" },
  { field: 'UTSMode', plain: [''], joins: false, host: "shares the host's hostname" },
  { field: 'UsernsMode', plain: ['', 'private'], joins: false, host: 'turns off user namespace remapping, so container root is host root' },
  { field: 'CgroupnsMode', plain: ['', 'private'], joins: false, host: "shares the host's cgroup namespace" },
  { field: 'Cgroup', plain: [''], joins: true, host: "uses the host's cgroup" }
]

export interface RefCheck {
  violations: Violation[]
  refs: ContainerRef[]
}

export function checkNamespacesAndRefs (body: Obj, rules: Pick<PolicyRules, 'cgroupnsMode'> = { cgroupnsMode: 'private' }): RefCheck {
  const hc = objAt(body, 'HostConfig')
  const out: RefCheck = { violations: [], refs: [] }
  for (const rule of MODES) {
    if (rule.field === 'CgroupnsMode' && rules.cgroupnsMode === 'allow-host' && strAt(hc, rule.field) === 'host') continue
    checkMode(hc, rule, out)
  }

  stringListRefs(hc, 'VolumesFrom', out, entry => {
    // daemon volume.ParseVolumesFrom: `<container>[:<mode>]`
    const colon = entry.indexOf(':')
    return colon === -1 ? { ref: entry, suffix: '' } : { ref: entry.slice(0, colon), suffix: entry.slice(colon) }
  })
  stringListRefs(hc, 'Links', out, parseLink)
  const endpoints = objAt(objAt(body, 'NetworkingConfig'), 'EndpointsConfig')
  for (const net of Object.keys(endpoints ?? {})) {
    stringListRefs(objAt(endpoints, net), 'Links', out, parseLink, ['NetworkingConfig', 'EndpointsConfig', net])
  }
  return out
}

/**
 * Namespace modes whose daemon default depends on the host or on dockerd's
 * flags, made explicit so a container gets the same isolation everywhere:
 *
 * - CgroupnsMode: dockerd defaults to "host" on cgroup v1 hosts (and for any
 *   API version below 1.41 there), "private" on v2 (moby
 *   daemon/config/config_linux.go DefaultCgroupV1NamespaceMode,
 *   api/server/router/container/container_routes.go). A host cgroup
 *   namespace shows the host's cgroup tree in /proc/self/cgroup and
 *   /proc/<pid>/cgroup and is what the release_agent escapes build on
 *   (CVE-2022-0492). A value the daemon keeps as given at every API version.
 * - IpcMode: `--default-ipc-mode` may be "shareable", and API versions below
 *   1.40 get "shareable" (same router file). "private" is dockerd's own
 *   default since 20.10; "shareable" is still allowed when asked for.
 *
 * Only an empty value is filled in; what the body names is judged by
 * checkNamespacesAndRefs.
 */
export function injectNamespaceDefaults (hc: Obj): void {
  if ((strAt(hc, 'CgroupnsMode') ?? '') === '') hc.CgroupnsMode = 'private'
  if ((strAt(hc, 'IpcMode') ?? '') === '') hc.IpcMode = 'private'
}

function checkMode (hc: Obj | undefined, rule: ModeRule, out: RefCheck): void {
  const value = strAt(hc, rule.field) ?? ''
  const field = `HostConfig.${rule.field}`
  // The daemon compares with "host" exactly; refusing any case costs nothing.
  if (value.toLowerCase() === 'host') {
    const knob = rule.field === 'CgroupnsMode' ? '; the policy option cgroupnsMode: allow-host permits it' : ''
    out.violations.push({ rule: 'host-namespace', field, message: `${field}=${value} is not allowed (it ${rule.host}${knob})` })
    return
  }
  if (rule.joins && value.startsWith('container:')) {
    const ref = value.slice('container:'.length)
    if (ref === '') out.violations.push({ rule: 'container-ref', field, message: `${field}="${value}" names no container` })
    else out.refs.push({ field, ref, path: ['HostConfig', rule.field], prefix: 'container:', suffix: '' })
    return
  }
  if (rule.plain !== null && !rule.plain.includes(value)) {
    out.violations.push({
      rule: 'namespace-mode',
      field,
      message: `${field}=${JSON.stringify(value)} is not allowed (allowed: ${rule.plain.map(v => JSON.stringify(v)).join(', ')}${rule.joins ? ', "container:<name>"' : ''})`
    })
  }
}

type RefParser = (entry: string) => { ref: string, suffix: string } | { error: string }

function stringListRefs (parent: Obj | undefined, key: string, out: RefCheck, parse: RefParser, base: string[] = ['HostConfig']): void {
  const list = listAt(parent, key) ?? []
  list.forEach((entry, i) => {
    if (typeof entry !== 'string') return
    const path = [...base, key, i]
    const field = formatPath(path)
    const parsed = entry === '' ? { error: 'is empty' } : parse(entry)
    if ('error' in parsed) {
      out.violations.push({ rule: 'container-ref', field, message: `${field}=${JSON.stringify(entry)} ${parsed.error}` })
    } else if (parsed.ref === '') {
      out.violations.push({ rule: 'container-ref', field, message: `${field}=${JSON.stringify(entry)} names no container` })
    } else {
      out.refs.push({ field, ref: parsed.ref, path, prefix: '', suffix: parsed.suffix })
    }
  })
}

/** The daemon's opts.ParseLink: `name[:alias]`, where a stored link looks like `/name:/self/alias`. */
function parseLink (entry: string): { ref: string, suffix: string } | { error: string } {
  const parts = entry.split(':')
  if (parts.length > 2) return { error: 'is not of the form name:alias' }
  const [name, alias] = parts as [string, string?]
  if (alias === undefined) return { ref: name, suffix: `:${name}` }
  if (name.startsWith('/')) return { ref: name.slice(1), suffix: `:${alias.slice(alias.lastIndexOf('/') + 1)}` }
  return { ref: name, suffix: `:${alias}` }
}
