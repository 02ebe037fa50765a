import { resolvePolicyConfig, type PolicyConfig } from '../../../src/policy/config'
import type { PolicyContext } from '../../../src/policy/types'
import { CLI_CREATE_FULL, CLI_CREATE_PLAIN, DOCKERODE_CREATE, PY_CREATE } from './fixtures'

/**
 * The create-body decision table (issue 4): real escape techniques, each
 * alone and hidden in a real client's body, plus the JSON tricks a Go daemon
 * falls for. Every case names the decision it must get. Shared by the unit
 * test (test/table/policy/create.test.ts) and the end-to-end run against the real
 * daemon (test/e2e/policy/create-denials.test.ts).
 */

const GiB = 1024 ** 3

/**
 * The table's policy, as a `policy:` config section: the defaults, one allowed
 * bind tree, one capability, one sysctl, and an admin override.
 */
export const TABLE_POLICY = {
  allowedBindPrefixes: ['/srv/data'],
  allowedCapabilities: ['NET_BIND_SERVICE'],
  allowedSysctls: ['net.ipv4.ping_group_range'],
  overrides: [{ scopes: ['admin'], policy: { hostPortRange: { min: 1 }, allowPublishAll: true } }]
}
export const tableConfig = resolvePolicyConfig(TABLE_POLICY)
const imageConfig = resolvePolicyConfig({ imageAllowList: ['registry.internal/*', 'nginx:*'] })
const labelConfig = resolvePolicyConfig({ requiredLabels: ['team'] })
const strictConfig = resolvePolicyConfig({ unknownFields: 'reject' })
const roConfig = resolvePolicyConfig({ allowedBindPrefixes: ['/srv/data'], requireReadOnlyBinds: true })
const pyConfig = resolvePolicyConfig({ allowedBindPrefixes: ['/srv/data'], allowedCapabilities: ['NET_ADMIN'] })
const netConfig = resolvePolicyConfig({ allowedNetworks: ['my-net'] })

export const alice: PolicyContext = { principal: 'alice', scopes: ['containers:write'], ownerLabel: 'docker-gateway.owner', ownershipEnabled: true }
export const admin: PolicyContext = { ...alice, principal: 'root', scopes: ['containers:write', 'admin'] }

export type Expect = 'allow' | [400 | 403, string]

export interface Case {
  name: string
  /** An object is JSON.stringified; a string is sent as is. */
  body: unknown
  expect: Expect
  field?: string
  config?: PolicyConfig
  ctx?: PolicyContext
}

export const IMAGE = 'dgw-busybox:test'
/** A body with these HostConfig fields. */
export const hc = (fields: Record<string, unknown>): unknown => ({ Image: IMAGE, HostConfig: fields })
/** The docker CLI's own body for `docker create`, with these HostConfig fields changed. */
export const cli = (fields: Record<string, unknown>): unknown => {
  const body = JSON.parse(CLI_CREATE_PLAIN) as { HostConfig: Record<string, unknown> }
  return { ...body, HostConfig: { ...body.HostConfig, ...fields } }
}
const deny = (rule: string): Expect => [403, rule]
const bad = (rule: string): Expect => [400, rule]

export const cases: Case[] = [
  // ---- real clients, harmless bodies ----
  { name: 'minimal body', body: { Image: IMAGE }, expect: 'allow' },
  { name: 'docker CLI: docker create', body: CLI_CREATE_PLAIN, expect: 'allow' },
  { name: 'dockerode: bind under the allowed prefix with :rw,z', body: DOCKERODE_CREATE, expect: 'allow' },
  { name: 'docker CLI full body hides CAP_NET_ADMIN among harmless flags', body: CLI_CREATE_FULL, expect: deny('capabilities'), field: 'HostConfig.CapAdd[0]' },
  { name: 'docker-py CPURealtimePeriod is folded to CpuRealtimePeriod and judged', body: PY_CREATE, expect: deny('cpu-realtime'), field: 'HostConfig.CpuRealtimePeriod', config: pyConfig },

  // ---- Privileged, alone, hidden, and with case and escape tricks ----
  { name: 'Privileged', body: hc({ Privileged: true }), expect: deny('privileged'), field: 'HostConfig.Privileged' },
  { name: 'Privileged hidden in a docker CLI body', body: cli({ Privileged: true }), expect: deny('privileged') },
  { name: 'Privileged: false is fine', body: hc({ Privileged: false }), expect: 'allow' },
  { name: '"privileged" (lower case key)', body: hc({ privileged: true }), expect: deny('privileged') },
  { name: '"PRIVILEGED" (upper case key)', body: hc({ PRIVILEGED: true }), expect: deny('privileged') },
  { name: 'Privileged inside "hostconfig"', body: { image: IMAGE, hostconfig: { Privileged: true } }, expect: deny('privileged') },
  { name: 'Privileged spelled with a \\u escape', body: `{"Image":"${IMAGE}","HostConfig":{"Privil\\u0065ged":true}}`, expect: deny('privileged') },
  { name: '"Hoſtconfig" with a long s', body: { Image: IMAGE, 'Hoſtconfig': { Privileged: true } }, expect: deny('privileged') },
  { name: 'Privileged spelled with a dotless i matches no field (dropped)', body: hc({ 'Prıvileged': true }), expect: 'allow' },

  // ---- host namespaces ----
  { name: 'NetworkMode host', body: hc({ NetworkMode: 'host' }), expect: deny('host-namespace'), field: 'HostConfig.NetworkMode' },
  { name: 'NetworkMode HOST (any case)', body: hc({ NetworkMode: 'HOST' }), expect: deny('host-namespace') },
  { name: 'NetworkMode with a Kelvin sign in the key', body: hc({ 'Networ\u212aMode': 'host' }), expect: deny('host-namespace') },
  { name: 'NetworkMode with a Kelvin sign written as a JSON escape', body: `{"Image":"${IMAGE}","HostConfig":{"Networ\\u212aMode":"host"}}`, expect: deny('host-namespace'), field: 'HostConfig.NetworkMode' },
  { name: 'PidMode host', body: hc({ PidMode: 'host' }), expect: deny('host-namespace'), field: 'HostConfig.PidMode' },
  { name: 'IpcMode host hidden in a docker CLI body', body: cli({ IpcMode: 'host' }), expect: deny('host-namespace') },
  { name: 'UTSMode host', body: hc({ UTSMode: 'host' }), expect: deny('host-namespace') },
  { name: 'UsernsMode host', body: hc({ UsernsMode: 'host' }), expect: deny('host-namespace') },
  { name: 'CgroupnsMode host', body: hc({ CgroupnsMode: 'host' }), expect: deny('host-namespace') },
  { name: 'CgroupnsMode host with cgroupnsMode: allow-host', body: hc({ CgroupnsMode: 'host' }), expect: 'allow', config: resolvePolicyConfig({ cgroupnsMode: 'allow-host' }) },
  { name: 'CgroupnsMode HOST with cgroupnsMode: allow-host (the daemon compares exactly)', body: hc({ CgroupnsMode: 'HOST' }), expect: deny('host-namespace'), config: resolvePolicyConfig({ cgroupnsMode: 'allow-host' }) },
  { name: 'CgroupnsMode with an unknown value', body: hc({ CgroupnsMode: 'container:web' }), expect: deny('namespace-mode') },
  { name: 'PidMode with an unknown value', body: hc({ PidMode: 'private' }), expect: deny('namespace-mode') },
  { name: 'PidMode container: with no name', body: hc({ PidMode: 'container:' }), expect: deny('container-ref') },
  { name: 'NetworkMode bridge, none and a user network', body: hc({ NetworkMode: 'my-net' }), expect: 'allow', config: netConfig },
  // ---- host-wide shares and rates (issue 10 review): log size, health-check rate, weights ----
  { name: 'LogConfig max-size 1000g and max-file 1000000', body: hc({ LogConfig: { Type: 'json-file', Config: { 'max-size': '1000g', 'max-file': '1000000' } } }), expect: deny('log-options'), field: 'HostConfig.LogConfig.Config["max-size"]' },
  { name: 'LogConfig local with max-file 11', body: hc({ LogConfig: { Type: 'local', Config: { 'max-file': '11' } } }), expect: deny('log-options'), field: 'HostConfig.LogConfig.Config["max-file"]' },
  { name: 'Healthcheck every millisecond', body: { Image: IMAGE, Healthcheck: { Test: ['CMD', 'true'], Interval: 1e6 } }, expect: deny('healthcheck'), field: 'Healthcheck.Interval' },
  { name: 'Healthcheck Retries 1000', body: { Image: IMAGE, Healthcheck: { Test: ['CMD', 'true'], Retries: 1000 } }, expect: deny('healthcheck'), field: 'Healthcheck.Retries' },
  { name: 'Healthcheck every 2 s, 3 retries', body: { Image: IMAGE, Healthcheck: { Test: ['CMD', 'true'], Interval: 2e9, Timeout: 1e9, Retries: 3 } }, expect: 'allow' },
  { name: 'CpuShares above the default 1024', body: hc({ CpuShares: 2048 }), expect: deny('resources'), field: 'HostConfig.CpuShares' },
  { name: 'BlkioWeight above the default 500', body: hc({ BlkioWeight: 1000 }), expect: deny('resources'), field: 'HostConfig.BlkioWeight' },
  { name: 'CpuShares and BlkioWeight lowered', body: hc({ CpuShares: 512, BlkioWeight: 100 }), expect: 'allow' },
  // ---- networks (rule network): only the default bridge, none, container:<own> and allowedNetworks ----
  { name: 'NetworkMode default, bridge and none', body: { Image: IMAGE, HostConfig: { NetworkMode: 'none' }, NetworkingConfig: { EndpointsConfig: { default: {}, bridge: { Aliases: null, Links: [], DNSNames: null }, none: {} } } }, expect: 'allow' },
  { name: 'the docker CLI body joins the default network', body: cli({ NetworkMode: 'default' }), expect: 'allow' },
  { name: 'NetworkMode a user-defined network not in allowedNetworks', body: hc({ NetworkMode: 'net-x' }), expect: deny('network'), field: 'HostConfig.NetworkMode' },
  { name: 'NetworkMode a compose project network', body: hc({ NetworkMode: 'app_default' }), expect: deny('network'), field: 'HostConfig.NetworkMode' },
  { name: 'NetworkMode an allowed name in another case (dockerd compares names exactly)', body: hc({ NetworkMode: 'My-Net' }), expect: deny('network'), config: netConfig },
  { name: 'NetworkMode Bridge (a user network to the daemon, not the default one)', body: hc({ NetworkMode: 'Bridge' }), expect: deny('network') },
  { name: 'NetworkMode a network ID', body: hc({ NetworkMode: '3f2a0c1d9b8e' }), expect: deny('network'), config: netConfig },
  { name: 'EndpointsConfig key: a network not in allowedNetworks, with aliases taking over a service name', body: { Image: IMAGE, HostConfig: { NetworkMode: 'bridge' }, NetworkingConfig: { EndpointsConfig: { 'net-x': { Aliases: ['bsrv', 'db'] } } } }, expect: deny('network'), field: 'NetworkingConfig.EndpointsConfig["net-x"]' },
  { name: 'EndpointsConfig key: a second network next to an allowed NetworkMode', body: { Image: IMAGE, HostConfig: { NetworkMode: 'my-net' }, NetworkingConfig: { EndpointsConfig: { 'my-net': {}, 'net-x': {} } } }, expect: deny('network'), field: 'NetworkingConfig.EndpointsConfig["net-x"]', config: netConfig },
  { name: 'EndpointsConfig key: host', body: { Image: IMAGE, NetworkingConfig: { EndpointsConfig: { host: {} } } }, expect: deny('network') },
  { name: 'Aliases on the default bridge', body: { Image: IMAGE, NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['db'] } } } }, expect: deny('network'), field: 'NetworkingConfig.EndpointsConfig.bridge.Aliases' },
  { name: 'DNSNames on the default network', body: { Image: IMAGE, NetworkingConfig: { EndpointsConfig: { default: { DNSNames: ['db'] } } } }, expect: deny('network'), field: 'NetworkingConfig.EndpointsConfig.default.DNSNames' },
  { name: 'endpoint Links on the default bridge', body: { Image: IMAGE, NetworkingConfig: { EndpointsConfig: { bridge: { Links: ['web:db'] } } } }, expect: deny('network'), field: 'NetworkingConfig.EndpointsConfig.bridge.Links' },
  { name: 'Aliases, DNSNames and Links on an allowed network', body: { Image: IMAGE, HostConfig: { NetworkMode: 'my-net' }, NetworkingConfig: { EndpointsConfig: { 'my-net': { Aliases: ['db'], DNSNames: ['db'], Links: ['web:w'] } } } }, expect: 'allow', config: netConfig },
  { name: 'IpcMode shareable, CgroupnsMode private', body: hc({ IpcMode: 'shareable', CgroupnsMode: 'private' }), expect: 'allow' },
  { name: 'container:<x> joins are allowed here (ownership is checked by the HTTP layer)', body: hc({ NetworkMode: 'container:web', PidMode: 'container:web', IpcMode: 'container:web' }), expect: 'allow' },
  { name: 'Links with a bad format', body: hc({ Links: ['a:b:c'] }), expect: deny('container-ref') },

  // ---- bind mounts: Binds ----
  { name: 'Binds /:/host', body: hc({ Binds: ['/:/host'] }), expect: deny('bind-mount'), field: 'HostConfig.Binds[0]' },
  { name: 'Binds the docker socket', body: hc({ Binds: ['/var/run/docker.sock:/var/run/docker.sock'] }), expect: deny('bind-mount') },
  { name: 'Binds /etc/../ (= /)', body: hc({ Binds: ['/etc/../:/host'] }), expect: deny('bind-mount') },
  { name: 'Binds //etc', body: hc({ Binds: ['//etc:/host'] }), expect: deny('bind-mount') },
  { name: 'Binds /srv/./data/../../etc', body: hc({ Binds: ['/srv/./data/../../etc:/host'] }), expect: deny('bind-mount') },
  { name: 'Binds /srv/data/../../etc escapes the allowed prefix', body: hc({ Binds: ['/srv/data/../../etc:/host'] }), expect: deny('bind-mount') },
  { name: 'Binds /srv/data2 is not under /srv/data', body: hc({ Binds: ['/srv/data2:/x'] }), expect: deny('bind-mount') },
  { name: 'Binds relative source ../etc', body: hc({ Binds: ['../etc:/host'] }), expect: deny('bind-mount') },
  { name: 'Binds ~/.ssh', body: hc({ Binds: ['~/.ssh:/root/.ssh'] }), expect: deny('bind-mount') },
  { name: 'Binds /etc:/x:rw,z outside the prefix', body: hc({ Binds: ['/etc:/x:rw,z'] }), expect: deny('bind-mount') },
  { name: 'Binds /srv/data/app:/app:rw,z under the prefix', body: hc({ Binds: ['/srv/data/app:/app:rw,z'] }), expect: 'allow' },
  { name: 'Binds /srv/data/ with a trailing slash and // inside', body: hc({ Binds: ['/srv//data/:/data:ro'] }), expect: 'allow' },
  { name: 'Binds /srv/data/x/../y stays under the prefix', body: hc({ Binds: ['/srv/data/x/../y:/y'] }), expect: 'allow' },
  { name: 'Binds a named volume and an anonymous one', body: hc({ Binds: ['cache:/cache', '/scratch'] }), expect: 'allow' },
  { name: 'Binds hidden after a harmless entry', body: cli({ Binds: ['/srv/data:/data', '/:/host'] }), expect: deny('bind-mount'), field: 'HostConfig.Binds[1]' },
  { name: '"Bindſ" (long s) is Binds', body: hc({ 'Bindſ': ['/:/host'] }), expect: deny('bind-mount') },
  { name: '"Bind\\u017f" (long s written as a JSON escape) is Binds', body: `{"Image":"${IMAGE}","HostConfig":{"Bind\\u017f":["/:/host"]}}`, expect: deny('bind-mount'), field: 'HostConfig.Binds[0]' },
  { name: 'Binds with four parts', body: hc({ Binds: ['/a:/b:ro:x'] }), expect: deny('bind-mount') },
  { name: 'requireReadOnlyBinds: a :rw bind under the prefix', body: hc({ Binds: ['/srv/data:/data:rw,z'] }), expect: deny('bind-mount'), config: roConfig },
  { name: 'requireReadOnlyBinds: a :ro bind under the prefix', body: hc({ Binds: ['/srv/data:/data:ro,z'] }), expect: 'allow', config: roConfig },

  // ---- bind mounts: Mounts, volumes, drivers ----
  { name: 'Mounts bind of /', body: hc({ Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] }), expect: deny('bind-mount'), field: 'HostConfig.Mounts[0].Source' },
  { name: 'Mounts bind of /srv/data/../../', body: hc({ Mounts: [{ Type: 'bind', Source: '/srv/data/../../', Target: '/host' }] }), expect: deny('bind-mount') },
  { name: 'Mounts bind with a relative source', body: hc({ Mounts: [{ Type: 'bind', Source: 'etc', Target: '/host' }] }), expect: deny('bind-mount') },
  { name: 'Mounts bind under the prefix', body: hc({ Mounts: [{ Type: 'bind', Source: '/srv/data/x', Target: '/x', BindOptions: { CreateMountpoint: true } }] }), expect: 'allow' },
  { name: 'Mounts "type" and "source" in lower case', body: hc({ mounts: [{ type: 'bind', source: '/etc', target: '/x' }] }), expect: deny('bind-mount') },
  { name: 'Mounts volume, local driver binding a host path', body: hc({ Mounts: [{ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/' } } } }] }), expect: deny('volume-driver') },
  { name: 'Mounts volume, NFS through the local driver', body: hc({ Mounts: [{ Type: 'volume', Target: '/v', VolumeOptions: { DriverConfig: { Options: { type: 'nfs', o: 'addr=10.0.0.1', device: ':/export' } } } }] }), expect: deny('volume-driver') },
  { name: 'Mounts volume with a plugin driver', body: hc({ Mounts: [{ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { DriverConfig: { Name: 'rexray' } } }] }), expect: deny('volume-driver') },
  { name: 'Mounts volume, local, no options; tmpfs', body: hc({ Mounts: [{ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { DriverConfig: { Name: 'local' } } }, { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1 << 20 } }] }), expect: 'allow' },
  { name: 'Mounts npipe', body: hc({ Mounts: [{ Type: 'npipe', Source: '\\\\.\\pipe\\docker_engine', Target: '/p' }] }), expect: deny('mount-type') },
  { name: 'Mounts type "Bind" (the daemon compares exactly)', body: hc({ Mounts: [{ Type: 'Bind', Source: '/', Target: '/h' }] }), expect: deny('mount-type') },
  { name: 'VolumeDriver', body: hc({ VolumeDriver: 'convoy', Binds: ['v:/v'] }), expect: deny('volume-driver') },
  { name: 'VolumesFrom (ownership is checked by the HTTP layer)', body: hc({ VolumesFrom: ['other:ro'] }), expect: 'allow' },

  // ---- capabilities and security options ----
  { name: 'CapAdd SYS_ADMIN', body: hc({ CapAdd: ['SYS_ADMIN'] }), expect: deny('capabilities'), field: 'HostConfig.CapAdd[0]' },
  { name: 'CapAdd ALL', body: hc({ CapAdd: ['ALL'] }), expect: deny('capabilities') },
  { name: 'CapAdd all (lower case)', body: hc({ CapAdd: ['all'] }), expect: deny('capabilities') },
  { name: 'CapAdd cap_sys_admin', body: hc({ CapAdd: ['cap_sys_admin'] }), expect: deny('capabilities') },
  { name: 'CapAdd ſys_admin (Go ToUpper gives SYS_ADMIN)', body: hc({ CapAdd: ['ſys_admin'] }), expect: deny('capabilities') },
  { name: 'CapAdd as a single string', body: hc({ CapAdd: 'SYS_PTRACE' }), expect: deny('capabilities') },
  { name: 'CapAdd the allowed capability in any spelling', body: hc({ CapAdd: ['net_bind_service', 'CAP_NET_BIND_SERVICE'], CapDrop: ['ALL'] }), expect: 'allow' },
  { name: 'SecurityOpt seccomp=unconfined', body: hc({ SecurityOpt: ['seccomp=unconfined'] }), expect: deny('security-opt') },
  { name: 'SecurityOpt seccomp with an inline profile', body: hc({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] }), expect: deny('security-opt') },
  { name: 'SecurityOpt apparmor=unconfined', body: hc({ SecurityOpt: ['apparmor=unconfined'] }), expect: deny('security-opt') },
  { name: 'SecurityOpt label:disable (legacy separator)', body: hc({ SecurityOpt: ['label:disable'] }), expect: deny('security-opt') },
  { name: 'SecurityOpt label=type:spc_t', body: hc({ SecurityOpt: ['label=type:spc_t'] }), expect: deny('security-opt') },
  { name: 'SecurityOpt no-new-privileges=false', body: hc({ SecurityOpt: ['no-new-privileges=false'] }), expect: deny('security-opt') },
  { name: 'SecurityOpt writable-cgroups=true', body: hc({ SecurityOpt: ['writable-cgroups=true'] }), expect: deny('security-opt') },
  { name: 'SecurityOpt no-new-privileges in every spelling', body: hc({ SecurityOpt: ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=1'] }), expect: 'allow' },

  // ---- devices, sysctls, cgroups, runtime, OOM ----
  { name: 'Devices /dev/sda', body: hc({ Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] }), expect: deny('devices') },
  { name: 'DeviceCgroupRules', body: hc({ DeviceCgroupRules: ['b 8:* rwm'] }), expect: deny('devices') },
  { name: 'DeviceRequests all GPUs', body: hc({ DeviceRequests: [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }] }), expect: deny('devices') },
  { name: 'Sysctls route_localnet', body: hc({ Sysctls: { 'net.ipv4.conf.all.route_localnet': '1' } }), expect: deny('sysctls') },
  { name: 'Sysctls with / separators', body: hc({ Sysctls: { 'kernel/shmmax': '1' } }), expect: deny('sysctls') },
  { name: 'Sysctls on the allow-list', body: hc({ Sysctls: { 'net/ipv4/ping_group_range': '0 2147483647' } }), expect: 'allow' },
  { name: 'endpoint DriverOpts sysctls (API 1.46+)', body: { Image: IMAGE, NetworkingConfig: { EndpointsConfig: { bridge: { DriverOpts: { 'com.docker.network.endpoint.sysctls': 'net.ipv4.conf.IFNAME.route_localnet=1' } } } } }, expect: deny('sysctls') },
  { name: 'CgroupParent', body: hc({ CgroupParent: '/' }), expect: deny('cgroup-parent') },
  { name: 'Runtime resolved to a containerd shim', body: hc({ Runtime: 'io.containerd.runsc.v1' }), expect: deny('runtime') },
  { name: 'Runtime runc', body: hc({ Runtime: 'runc' }), expect: 'allow' },
  { name: 'OomKillDisable', body: hc({ OomKillDisable: true }), expect: deny('oom-kill-disable') },
  { name: 'OomScoreAdj -1000', body: hc({ OomScoreAdj: -1000 }), expect: deny('oom-score-adj') },
  { name: 'Ulimits nofile unlimited', body: hc({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: -1 }] }), expect: deny('ulimits'), field: 'HostConfig.Ulimits[0].Hard' },
  { name: 'Ulimits rtprio (not listed)', body: hc({ Ulimits: [{ Name: 'rtprio', Soft: 99, Hard: 99 }] }), expect: deny('ulimits') },
  { name: 'Ulimits NOFILE within the cap', body: hc({ Ulimits: [{ Name: 'NOFILE', Soft: 1024, Hard: 65536 }] }), expect: 'allow' },

  // ---- ports ----
  { name: 'PublishAllPorts', body: hc({ PublishAllPorts: true }), expect: deny('publish-all-ports') },
  { name: 'PublishAllPorts for admin (override)', body: hc({ PublishAllPorts: true }), expect: 'allow', ctx: admin },
  { name: 'PortBindings host port 80', body: hc({ PortBindings: { '80/tcp': [{ HostPort: '80' }] } }), expect: deny('port-binding'), field: 'HostConfig.PortBindings["80/tcp"][0].HostPort' },
  { name: 'PortBindings host port 80 for admin (override)', body: hc({ PortBindings: { '80/tcp': [{ HostPort: '80' }] } }), expect: 'allow', ctx: admin },
  { name: 'PortBindings range reaching below 1024', body: hc({ PortBindings: { '22/tcp': [{ HostPort: '1000-1030' }] } }), expect: deny('port-binding') },
  { name: 'PortBindings host address not allowed', body: hc({ PortBindings: { '80/tcp': [{ HostIp: '10.0.0.5', HostPort: '8080' }] } }), expect: deny('ports') },
  { name: 'PortBindings scoped IPv6 host address (was a 500)', body: hc({ PortBindings: { '80/tcp': [{ HostIp: 'fe80::1%eth0', HostPort: '8080' }] } }), expect: deny('ports'), field: 'HostConfig.PortBindings["80/tcp"][0].HostIp' },
  { name: 'PortBindings bracketed IPv6 host address', body: hc({ PortBindings: { '80/tcp': [{ HostIp: '[::1]', HostPort: '8080' }] } }), expect: deny('ports') },
  { name: 'PortBindings garbage port', body: hc({ PortBindings: { '80/tcp': [{ HostPort: '8080 ' }] } }), expect: deny('port-binding') },
  { name: 'PortBindings random port, a range and loopback', body: hc({ PortBindings: { '80/tcp': [{ HostPort: '' }, { HostIp: '127.0.0.1', HostPort: '8000-8010' }, { HostIp: '::ffff:127.0.0.1', HostPort: '0' }] } }), expect: 'allow' },

  // ---- masked paths, logging, annotations ----
  { name: 'MaskedPaths []', body: hc({ MaskedPaths: [] }), expect: deny('masked-paths') },
  { name: 'ReadonlyPaths []', body: hc({ ReadonlyPaths: [] }), expect: deny('masked-paths') },
  { name: 'MaskedPaths replaced by a shorter list', body: hc({ MaskedPaths: ['/proc/kcore'] }), expect: deny('masked-paths') },
  { name: '"Mas\u212aedPaths" (Kelvin sign) []', body: hc({ 'Mas\u212aedPaths': [] }), expect: deny('masked-paths') },
  { name: 'LogConfig awslogs', body: hc({ LogConfig: { Type: 'awslogs', Config: { 'awslogs-group': 'x' } } }), expect: deny('log-driver') },
  { name: 'LogConfig syslog to an address of the caller\'s choosing', body: hc({ LogConfig: { Type: 'syslog', Config: { 'syslog-address': 'tcp://10.0.0.1:514' } } }), expect: deny('log-driver') },
  { name: 'LogConfig json-file with options', body: hc({ LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } } }), expect: 'allow' },
  { name: 'Annotations', body: hc({ Annotations: { 'io.katacontainers.config.hypervisor.kernel': '/tmp/k' } }), expect: deny('annotations') },

  // ---- resources ----
  { name: 'Memory above the cap', body: hc({ Memory: 16 * GiB }), expect: deny('resources'), field: 'HostConfig.Memory' },
  { name: 'NanoCpus above the cap', body: hc({ NanoCpus: 8e9 }), expect: deny('resources') },
  { name: 'CpuQuota above the cap', body: hc({ CpuQuota: 800000, CpuPeriod: 100000 }), expect: deny('resources') },
  { name: 'MemorySwap -1: unlimited swap around the memory cap', body: hc({ Memory: 1 * GiB, MemorySwap: -1 }), expect: deny('resources'), field: 'HostConfig.MemorySwap' },
  { name: 'MemorySwap within reason is fine', body: hc({ Memory: 1 * GiB, MemorySwap: 2 * GiB }), expect: 'allow' },
  { name: 'MemorySwap 1 PiB (finding 6: no cap on a positive value)', body: hc({ Memory: 1 * GiB, MemorySwap: 1024 ** 5 }), expect: deny('resources'), field: 'HostConfig.MemorySwap' },
  { name: 'MemorySwap 1 PiB without Memory', body: hc({ MemorySwap: 1024 ** 5 }), expect: deny('resources'), field: 'HostConfig.MemorySwap' },
  { name: 'MemorySwap just above the default cap (2 x maxMemory)', body: hc({ Memory: 8 * GiB, MemorySwap: 16 * GiB + 1 }), expect: deny('resources') },
  { name: 'MemorySwap at the default cap', body: hc({ Memory: 8 * GiB, MemorySwap: 16 * GiB }), expect: 'allow' },
  { name: 'MemorySwap below Memory (it is memory+swap)', body: hc({ Memory: 2 * GiB, MemorySwap: 1 * GiB }), expect: deny('resources'), field: 'HostConfig.MemorySwap' },
  { name: 'MemorySwap -2 (negative: unlimited)', body: hc({ MemorySwap: -2 }), expect: deny('resources') },
  { name: 'ShmSize above maxTmpfsSize', body: hc({ ShmSize: 64 * GiB }), expect: deny('resources'), field: 'HostConfig.ShmSize' },
  { name: 'ShmSize negative', body: hc({ ShmSize: -1 }), expect: deny('resources') },
  { name: 'CpuQuota -1 overrides NanoCpus (unlimited)', body: hc({ NanoCpus: 1e9, CpuQuota: -1 }), expect: deny('resources') },
  { name: 'a small CpuPeriod makes a small quota many CPUs', body: hc({ CpuQuota: 50000, CpuPeriod: 1000 }), expect: deny('resources') },
  { name: 'PidsLimit -1 (unlimited)', body: hc({ PidsLimit: -1 }), expect: deny('resources') },
  { name: 'PidsLimit above the cap', body: hc({ PidsLimit: 100000 }), expect: deny('resources') },
  { name: 'resources within the caps', body: hc({ Memory: 2 * GiB, NanoCpus: 2e9, PidsLimit: 100 }), expect: 'allow' },
  { name: 'CpuRealtimeRuntime', body: hc({ CpuRealtimeRuntime: 950000 }), expect: deny('cpu-realtime') },
  { name: 'RestartPolicy always with a retry count', body: hc({ RestartPolicy: { Name: 'always', MaximumRetryCount: 5 } }), expect: deny('restart-policy') },
  // ---- tmpfs (finding 8) ----
  { name: 'Tmpfs rbind (runc bind-mounts its bundle path)', body: hc({ Tmpfs: { '/t': 'rbind' } }), expect: deny('tmpfs-options'), field: 'HostConfig.Tmpfs["/t"]' },
  { name: 'Tmpfs bind after harmless options', body: hc({ Tmpfs: { '/t': 'size=1m,bind' } }), expect: deny('tmpfs-options') },
  { name: 'Tmpfs exec,suid,dev', body: hc({ Tmpfs: { '/t': 'exec,suid,dev' } }), expect: deny('tmpfs-options') },
  { name: 'Tmpfs rshared propagation', body: hc({ Tmpfs: { '/t': 'rshared' } }), expect: deny('tmpfs-options') },
  { name: 'Tmpfs size as a share of the host RAM', body: hc({ Tmpfs: { '/t': 'size=90%' } }), expect: deny('tmpfs-options') },
  { name: 'Tmpfs size above maxTmpfsSize', body: hc({ Tmpfs: { '/t': 'size=100g' } }), expect: deny('tmpfs-options') },
  { name: 'Tmpfs on /proc/sys', body: hc({ Tmpfs: { '/proc/sys': '' } }), expect: deny('tmpfs-options') },
  { name: 'Tmpfs on a relative path', body: hc({ Tmpfs: { 'run/../..': '' } }), expect: deny('tmpfs-options') },
  { name: 'Tmpfs size=64m,mode=1777,exec,nosuid,nodev and no options', body: hc({ Tmpfs: { '/run': 'size=64m,mode=1777,exec,nosuid,nodev', '/cache': '' } }), expect: 'allow' },
  { name: 'Mounts tmpfs with Options [["rbind"]] (API 1.46+)', body: hc({ Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { Options: [['rbind']] } }] }), expect: deny('tmpfs-options'), field: 'HostConfig.Mounts[0].TmpfsOptions.Options[0]' },
  { name: 'Mounts tmpfs with Options [["exec"]]', body: hc({ Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { Options: [['exec']], Mode: 0o1777, SizeBytes: 64 << 20 } }] }), expect: 'allow' },
  { name: 'Mounts tmpfs SizeBytes above maxTmpfsSize', body: hc({ Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * GiB } }] }), expect: deny('tmpfs-options') },
  { name: 'Mounts tmpfs Mode with file-type bits', body: hc({ Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { Mode: 0o20000000755 } }] }), expect: deny('tmpfs-options') },
  { name: 'Mounts tmpfs over /proc', body: hc({ Mounts: [{ Type: 'tmpfs', Target: '/proc' }] }), expect: deny('tmpfs-options'), field: 'HostConfig.Mounts[0].Target' },
  { name: 'harmless extras: Init, Tmpfs, ShmSize, User root, Entrypoint', body: { Image: IMAGE, User: 'root', Entrypoint: ['sh', '-c'], Cmd: ['id'], Env: ['A=1'], HostConfig: { Init: true, Tmpfs: { '/run': 'size=64m' }, ShmSize: 1 << 26, ReadonlyRootfs: true } }, expect: 'allow' },

  // ---- image allow-list and labels ----
  { name: 'image allow-list: nginx (no tag = latest)', body: { Image: 'nginx' }, expect: 'allow', config: imageConfig },
  { name: 'image allow-list: docker.io/library/nginx:1.25', body: { Image: 'docker.io/library/nginx:1.25' }, expect: 'allow', config: imageConfig },
  { name: 'image allow-list: registry.internal/team/app:1', body: { Image: 'registry.internal/team/app:1' }, expect: 'allow', config: imageConfig },
  { name: 'image allow-list: evil.io/nginx:1', body: { Image: 'evil.io/nginx:1' }, expect: deny('image'), config: imageConfig },
  { name: 'image allow-list: registry.internal.evil.io/x', body: { Image: 'registry.internal.evil.io/x' }, expect: deny('image'), config: imageConfig },
  { name: 'image allow-list: a Mounts image source outside it', body: { Image: 'nginx:1', HostConfig: { Mounts: [{ Type: 'image', Source: 'evil.io/tools:1', Target: '/t' }] } }, expect: deny('image'), field: 'HostConfig.Mounts[0].Source', config: imageConfig },
  { name: 'image allow-list: an image ID', body: { Image: 'sha256:4c9d2fe563a5' }, expect: deny('image'), config: imageConfig },
  { name: 'required label missing', body: { Image: IMAGE, Labels: { other: 'x' } }, expect: deny('required-labels'), config: labelConfig },
  { name: 'required label present', body: { Image: IMAGE, Labels: { team: 'blue' } }, expect: 'allow', config: labelConfig },
  { name: 'a client-sent owner label', body: { Image: IMAGE, Labels: { 'docker-gateway.owner': 'bob' } }, expect: deny('owner-label'), field: 'Labels["docker-gateway.owner"]' },
  { name: 'a client-sent owner label with ownership off', body: { Image: IMAGE, Labels: { 'docker-gateway.owner': 'bob' } }, expect: 'allow', ctx: { ...alice, ownershipEnabled: false } },

  // ---- JSON tricks (400) ----
  { name: 'duplicate HostConfig (Go merges both)', body: `{"Image":"${IMAGE}","HostConfig":{"Privileged":true},"HostConfig":{"Memory":1}}`, expect: bad('json-duplicate-key') },
  { name: 'duplicate key inside HostConfig', body: `{"Image":"${IMAGE}","HostConfig":{"Privileged":true,"Privileged":false}}`, expect: bad('json-duplicate-key') },
  { name: 'duplicate key spelled with an escape', body: `{"Image":"${IMAGE}","HostConfig":{"Privileged":false,"Privil\\u0065ged":true}}`, expect: bad('json-duplicate-key') },
  { name: 'duplicate key in a map', body: `{"Image":"${IMAGE}","Labels":{"a":"1","a":"2"}}`, expect: bad('json-duplicate-key') },
  { name: 'Privileged and privileged in one object', body: `{"Image":"${IMAGE}","HostConfig":{"Privileged":false,"privileged":true}}`, expect: bad('json-key-case'), field: 'HostConfig.Privileged' },
  { name: 'Binds and Bindſ in one object', body: `{"Image":"${IMAGE}","HostConfig":{"Binds":[],"Bind\\u017f":["/:/host"]}}`, expect: bad('json-key-case') },
  { name: 'HostConfig and hostconfig', body: `{"Image":"${IMAGE}","HostConfig":{},"hostconfig":{"Privileged":true}}`, expect: bad('json-key-case') },
  { name: 'top-level Privileged (old daemons apply it)', body: { Image: IMAGE, Privileged: true }, expect: bad('legacy-top-level-hostconfig'), field: 'Privileged' },
  { name: 'top-level Binds next to a HostConfig', body: { Image: IMAGE, Binds: ['/:/host'], HostConfig: {} }, expect: bad('legacy-top-level-hostconfig') },
  { name: 'top-level "privileged" in lower case', body: { Image: IMAGE, privileged: true }, expect: bad('legacy-top-level-hostconfig') },
  { name: 'top-level "ſecurityOpt"', body: { Image: IMAGE, 'ſecurityOpt': ['seccomp=unconfined'] }, expect: bad('legacy-top-level-hostconfig') },
  { name: "dockerode docker.run(): zero-valued top-level HostConfig fields apply nothing", body: { Image: IMAGE, VolumesFrom: [], Privileged: false, Binds: null, Dns: [] }, expect: 'allow' },
  { name: 'top-level Cpuset (legacy wrapper field)', body: { Image: IMAGE, Cpuset: '0' }, expect: bad('legacy-top-level-hostconfig') },
  { name: 'trailing garbage (20.10 would ignore it)', body: `{"Image":"${IMAGE}"} {"HostConfig":{"Privileged":true}}`, expect: bad('json-syntax') },
  { name: 'Privileged as a string', body: hc({ Privileged: 'true' }), expect: bad('json-type') },
  { name: 'an integer written with an exponent', body: `{"Image":"${IMAGE}","HostConfig":{"Memory":1e9}}`, expect: bad('json-type') },
  { name: 'an array body', body: [{ Image: IMAGE }], expect: bad('body-shape') },
  { name: 'a null body', body: 'null', expect: bad('body-shape') },
  { name: 'an empty body', body: '', expect: bad('json-syntax') },
  { name: 'no Image', body: { Cmd: ['sh'] }, expect: bad('image-required') },
  { name: 'an empty Image', body: { Image: '' }, expect: bad('image-required') },
  { name: 'deep nesting', body: `{"Image":"${IMAGE}","Labels":${'['.repeat(100)}${']'.repeat(100)}}`, expect: bad('json-depth') },
  { name: 'unknownFields: reject', body: { Image: IMAGE, HostConfig: { Capabilities: ['ALL'] } }, expect: bad('unknown-field'), field: 'HostConfig.Capabilities', config: strictConfig },
  { name: 'unknownFields: drop (default) drops an unknown key', body: { Image: IMAGE, HostConfig: { Capabilities: ['ALL'] } }, expect: 'allow' }
]
