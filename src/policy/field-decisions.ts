/**
 * One explicit decision for every field of every struct the create, exec and
 * update bodies decode into (docker-schema.ts, generated from the pinned
 * Engine API files). For each field we asked which program on the daemon's
 * host reads it and what it can be made to do:
 *
 * - `allow`: forwarded as is; `why` says why that is harmless.
 * - `bounded`: forwarded within bounds that the named policy rule(s) enforce.
 * - `default`: injected when absent, and bounded by the named rule(s).
 * - `deny`: a non-zero value is refused (403, rule `field-denied`). Zero
 *   values ("", 0, false, null, [], {}) pass, because the docker CLI and the
 *   SDKs send every field with its zero value, and Go decodes them to "unset".
 *
 * A schema field with no entry here is refused (rule `no-rule`), so a field
 * added by regenerating docker-schema.ts is never forwarded unexamined;
 * test/table/security/field-decisions.test.ts fails until it has a decision.
 * docs/policy-fields.md is generated from this table (scripts/gen-policy-docs.ts).
 */

export type FieldDecision =
  | { readonly decision: 'allow', readonly why: string }
  | { readonly decision: 'bounded' | 'default', readonly rules: readonly [string, ...string[]], readonly why: string }
  | { readonly decision: 'deny', readonly why: string }

type Table = Readonly<Record<string, FieldDecision>>

const allow = (why: string): FieldDecision => ({ decision: 'allow', why })
const bounded = (rules: string | readonly [string, ...string[]], why: string): FieldDecision =>
  ({ decision: 'bounded', rules: typeof rules === 'string' ? [rules] : rules, why })
const dflt = (rules: string | readonly [string, ...string[]], why: string): FieldDecision =>
  ({ decision: 'default', rules: typeof rules === 'string' ? [rules] : rules, why })
const deny = (why: string): FieldDecision => ({ decision: 'deny', why })

/** Rule ids of checks that bound fields (each is emitted by a check in src/policy/). */
const R = {
  resources: 'resources',
  ports: 'ports',
  portBinding: 'port-binding',
  publishAll: 'publish-all-ports',
  bindMount: 'bind-mount',
  volumeDriver: 'volume-driver',
  mountType: 'mount-type',
  image: 'image',
  tmpfs: 'tmpfs-options',
  cgroupns: 'cgroupns',
  hostNs: 'host-namespace',
  nsMode: 'namespace-mode',
  containerRef: 'container-ref',
  volumeRef: 'volume-ref',
  devices: 'devices',
  ulimits: 'ulimits',
  restart: 'restart-policy',
  cgroupParent: 'cgroup-parent',
  cpuRealtime: 'cpu-realtime',
  oomKill: 'oom-kill-disable',
  oomScore: 'oom-score-adj',
  privileged: 'privileged',
  capabilities: 'capabilities',
  securityOpt: 'security-opt',
  maskedPaths: 'masked-paths',
  runtime: 'runtime',
  annotations: 'annotations',
  logDriver: 'log-driver',
  logOptions: 'log-options',
  sysctls: 'sysctls',
  ownerLabel: 'owner-label',
  requiredLabels: 'required-labels',
  execPrivileged: 'exec-privileged',
  execRootUser: 'exec-root-user',
  network: 'network',
  healthcheck: 'healthcheck'
} as const

const STRUCT = 'a struct: each of its fields has its own decision'
const BLKIO_DEVICE = 'dockerd stat()s each Path on the host as root when the container starts, and its error tells whether the file exists (a host file-existence oracle)'
const WINDOWS_ONLY = 'Windows-only limit that the CPU/IO caps (`resources`) do not read'
const OUTPUT_ONLY = 'status field the daemon fills in (inspect); a client has no use for a non-zero value on create'

/**
 * container.Resources, shared by HostConfig (create) and the update body. On
 * update nothing is injected (absent = no change), so HostConfig overrides
 * the injected ones with `default` below.
 */
const RESOURCES: Table = {
  CpuShares: bounded(R.resources, 'relative CPU weight among sibling cgroups under contention: at most 1024, the default, so a tenant may lower its share but not raise it above others (0 = default)'),
  Memory: bounded(R.resources, 'memory cgroup hard limit, capped at maxMemory'),
  CgroupParent: bounded(R.cgroupParent, 'where dockerd places the container cgroup on the host: a non-empty value is refused (it would leave the daemon cgroup and its limits)'),
  BlkioWeight: bounded(R.resources, 'relative block-IO weight among siblings: at most 500, the default, so a tenant may lower its share but not raise it above others (0 = default)'),
  BlkioWeightDevice: deny(BLKIO_DEVICE),
  BlkioDeviceReadBps: deny(BLKIO_DEVICE),
  BlkioDeviceWriteBps: deny(BLKIO_DEVICE),
  BlkioDeviceReadIOps: deny(BLKIO_DEVICE),
  BlkioDeviceWriteIOps: deny(BLKIO_DEVICE),
  CpuPeriod: bounded(R.resources, 'CFS period; the CPUs it yields with CpuQuota are capped at maxNanoCpus'),
  CpuQuota: bounded(R.resources, 'CFS quota: negative (unlimited) refused, quota/period capped at maxNanoCpus'),
  CpuRealtimePeriod: bounded(R.cpuRealtime, 'real-time scheduling can starve the host: non-zero refused'),
  CpuRealtimeRuntime: bounded(R.cpuRealtime, 'real-time scheduling can starve the host: non-zero refused'),
  CpusetCpus: allow('restricts the container to some host CPUs; the CPU cap still applies'),
  CpusetMems: allow('restricts the container to some NUMA memory nodes; the memory cap still applies'),
  Devices: bounded(R.devices, 'host device nodes given to the container: a non-empty list is refused'),
  DeviceCgroupRules: bounded(R.devices, 'opens the device cgroup (mknod a host disk): a non-empty list is refused'),
  DeviceRequests: bounded(R.devices, 'GPU/CDI hooks inject host devices, libraries and mounts: a non-empty list is refused'),
  KernelMemory: deny('kernel-memory (kmem) limit, deprecated and ignored from API 1.42; on older cgroup-v1 kernels kmem accounting leaked and hung the host'),
  KernelMemoryTCP: deny('TCP kernel-memory limit, deprecated (ignored from API 1.52); nothing needs it'),
  MemoryReservation: allow('soft memory limit, refused by dockerd above Memory; the hard cap is `resources`'),
  MemorySwap: bounded(R.resources, 'memory+swap limit: unlimited (-1) refused, and capped like Memory'),
  MemorySwappiness: allow('swappiness (0-100) of the container own memory cgroup; -1 keeps the host default'),
  NanoCpus: bounded(R.resources, 'CPU limit in 1e-9 CPUs, capped at maxNanoCpus'),
  OomKillDisable: bounded(R.oomKill, 'without its own OOM killer the host kills other processes: true is refused'),
  Init: allow('dockerd mounts its own configured docker-init binary as PID 1; the caller picks no host path'),
  PidsLimit: bounded(R.resources, 'pids cgroup limit: unlimited (0 on update, negative) refused, capped at maxPidsLimit'),
  Ulimits: bounded(R.ulimits, 'rlimits the root daemon may raise: only listed names, within their cap, never -1'),
  CpuCount: deny(WINDOWS_ONLY),
  CpuPercent: deny(WINDOWS_ONLY),
  IOMaximumIOps: deny(WINDOWS_ONLY),
  IOMaximumBandwidth: deny(WINDOWS_ONLY)
}

const HOST_CONFIG: Table = {
  ...RESOURCES,
  Memory: dflt(R.resources, 'memory cgroup hard limit: defaultMemory injected when absent or 0, capped at maxMemory'),
  NanoCpus: dflt(R.resources, 'CPU limit: defaultNanoCpus injected (as CpuQuota when a CpuPeriod is set) unless a CPU limit is given, capped at maxNanoCpus'),
  PidsLimit: dflt(R.resources, 'pids cgroup limit: defaultPidsLimit injected when absent or 0, capped at maxPidsLimit'),
  MemorySwap: dflt(R.resources, 'memory+swap: -1 (unlimited) refused, at least Memory, capped at maxMemorySwap; 2 x Memory within the cap injected when absent (what dockerd would pick, made explicit)'),
  Binds: bounded([R.bindMount, R.volumeRef], 'host paths must lie under allowedBindPrefixes after cleaning (and be :ro if required); a named volume must be the caller own (the gateway creates it, owner-labelled, when new); anonymous volumes are fresh'),
  ContainerIDFile: allow('used by the docker CLI only (it writes the file on the client); dockerd stores and ignores it'),
  LogConfig: dflt([R.logDriver, R.logOptions], 'injected when absent: logs.defaultDriver (json-file) with max-size/max-file rotation (20m x 5), since json-file keeps one unbounded file on the host disk by default'),
  NetworkMode: bounded([R.hostNs, R.containerRef, R.network], '"host" refused, container:<x> must be the caller own container; a user-defined network only from allowedNetworks (its embedded DNS is shared with every member)'),
  PortBindings: bounded(R.portBinding, 'publishes host ports ahead of the host firewall: host port range and host address are checked per binding'),
  RestartPolicy: allow(STRUCT),
  AutoRemove: allow('dockerd removes the caller own container when it exits'),
  VolumeDriver: bounded(R.volumeDriver, 'a volume plugin may map host paths: a non-empty driver is refused'),
  VolumesFrom: bounded(R.containerRef, 'inherits every mount of another container: it must be the caller own'),
  Mounts: allow('a list of Mount structs: each field has its own decision'),
  CapAdd: bounded(R.capabilities, 'only allowedCapabilities, never ALL'),
  CapDrop: allow('removes capabilities from the container: only ever less privilege'),
  CgroupnsMode: dflt([R.cgroupns, R.hostNs], '"private" injected when empty (dockerd defaults to "host" on cgroup-v1 hosts: issue 10 finding 3); "host" refused unless policy cgroupnsMode: allow-host'),
  Dns: allow("written into the container's own resolv.conf"),
  DnsOptions: allow("written into the container's own resolv.conf"),
  DnsSearch: allow("written into the container's own resolv.conf"),
  ExtraHosts: allow("written into the container's own /etc/hosts (host-gateway names the bridge gateway, which the container reaches anyway)"),
  GroupAdd: allow('supplementary groups of the container process; they open only files the container can already see'),
  IpcMode: dflt([R.hostNs, R.nsMode, R.containerRef], '"private" injected when empty (dockerd --default-ipc-mode may be "shareable"); "host" refused, a fixed set of modes, container:<x> must be the caller own'),
  Cgroup: bounded([R.hostNs, R.nsMode, R.containerRef], 'only "" or container:<x> of the caller own container'),
  Links: bounded(R.containerRef, 'links copy the linked container environment: it must be the caller own'),
  OomScoreAdj: bounded(R.oomScore, 'negative values shield the container at the host expense: refused'),
  PidMode: bounded([R.hostNs, R.nsMode, R.containerRef], '"host" refused, container:<x> must be the caller own'),
  Privileged: bounded(R.privileged, 'all capabilities and host devices: true is refused'),
  PublishAllPorts: bounded(R.publishAll, 'publishes every exposed port on all host interfaces: true refused unless allowPublishAll'),
  ReadonlyRootfs: allow('makes the container root filesystem read-only: only ever less access'),
  SecurityOpt: bounded(R.securityOpt, 'only no-new-privileges; unconfined or custom seccomp/AppArmor/SELinux refused'),
  StorageOpt: deny('storage-driver options (size quotas, driver-specific keys) applied by the graph driver on the host; no check reads them'),
  Tmpfs: bounded(R.tmpfs, 'tmpfs mounts made by runc from a mount-option string: the options are checked (no bind/rbind, exec/suid/dev)'),
  UTSMode: bounded([R.hostNs, R.nsMode], '"host" refused'),
  UsernsMode: bounded([R.hostNs, R.nsMode], '"host" (container root = host root) refused'),
  ShmSize: dflt(R.resources, "size of the container's /dev/shm tmpfs: defaultShmSize injected when absent or 0, capped at maxTmpfsSize"),
  Sysctls: bounded(R.sysctls, 'only allowedSysctls (runc, not dockerd, limits them to namespaced ones)'),
  Runtime: bounded(R.runtime, 'names a host runtime binary (containerd resolves dotted names on PATH): only allowedRuntimes'),
  ConsoleSize: allow('initial size of the container TTY; the docker CLI always sends it'),
  Isolation: deny('Windows isolation technology (process/hyperv); on Linux only the default exists'),
  MaskedPaths: bounded(R.maskedPaths, 'any list, [] included, replaces the default masks of /proc/kcore, /proc/sysrq-trigger...: only absent or null'),
  ReadonlyPaths: bounded(R.maskedPaths, 'any list, [] included, makes /proc/sys etc. writable: only absent or null'),
  Annotations: bounded(R.annotations, 'OCI annotations that runtimes act on (e.g. kata hypervisor paths): a non-empty map is refused')
}

const CREATE_BODY: Table = {
  Hostname: allow("the container's own UTS hostname (a host UTS namespace is refused by `host-namespace`)"),
  Domainname: allow("the container's own UTS domain name"),
  User: allow('user inside the container; its capabilities are bounded by `capabilities`/`privileged`'),
  AttachStdin: allow('which streams dockerd wires to an attach'),
  AttachStdout: allow('which streams dockerd wires to an attach'),
  AttachStderr: allow('which streams dockerd wires to an attach'),
  ExposedPorts: allow('image metadata; it publishes nothing unless PublishAllPorts, which `publish-all-ports` bounds'),
  Tty: allow('allocates a TTY for the container process'),
  OpenStdin: allow('keeps the container stdin open'),
  StdinOnce: allow('closes stdin after the first attach detaches'),
  Env: allow("the container process's environment"),
  Cmd: allow('the command run inside the container'),
  Healthcheck: allow(STRUCT),
  ArgsEscaped: allow('Windows command-line quoting flag; ignored on Linux'),
  Image: bounded(R.image, 'the image allow-list (when configured); an Image is required'),
  Volumes: allow('anonymous local volumes that dockerd creates under its own volume root; no host path is named'),
  WorkingDir: allow('a directory inside the container rootfs, resolved by dockerd within it'),
  Entrypoint: allow('the entrypoint run inside the container'),
  NetworkDisabled: allow('no network for the container: only ever less access'),
  MacAddress: deny("picks the container's MAC on a shared bridge: another tenant's MAC would take over its traffic"),
  OnBuild: allow('ONBUILD triggers stored for docker build of a committed image; running containers ignore them'),
  Labels: dflt([R.ownerLabel, R.requiredLabels], 'the owner label is the gateway\'s to write (stamped, a client value refused); requiredLabels must be set'),
  StopSignal: allow('signal dockerd sends to the container own process on stop'),
  StopTimeout: deny("dockerd's shutdown waits for the longest StopTimeout of any container, forever for -1 (moby daemon/daemon.go ShutdownTimeout): one tenant could stall every daemon restart"),
  Shell: allow('default shell of Dockerfile RUN for docker build; running containers ignore it'),
  HostConfig: allow(STRUCT),
  NetworkingConfig: allow(STRUCT)
}

export const FIELD_DECISIONS: Readonly<Record<string, Table>> = {
  CreateBody: CREATE_BODY,
  HostConfig: HOST_CONFIG,
  NetworkingConfig: {
    EndpointsConfig: bounded(R.network, 'a map of network name to EndpointSettings: each key must be bridge, default, none or in allowedNetworks (joining a network puts the container in its embedded DNS)')
  },
  EndpointSettings: {
    IPAMConfig: allow(STRUCT),
    Links: bounded([R.containerRef, R.network], 'links copy the linked container environment: it must be the caller own, and only on a network in allowedNetworks'),
    Aliases: bounded(R.network, "DNS names of the container in the network's embedded DNS, where they could take over another member's service name: only on a network in allowedNetworks"),
    NetworkID: deny(OUTPUT_ONLY),
    EndpointID: deny(OUTPUT_ONLY),
    Gateway: deny(OUTPUT_ONLY),
    IPAddress: deny(OUTPUT_ONLY),
    IPPrefixLen: deny(OUTPUT_ONLY),
    IPv6Gateway: deny(OUTPUT_ONLY),
    GlobalIPv6Address: deny(OUTPUT_ONLY),
    GlobalIPv6PrefixLen: deny(OUTPUT_ONLY),
    MacAddress: deny("picks the endpoint's MAC on a shared network: another tenant's MAC would take over its traffic"),
    DriverOpts: deny('options read by the network driver in dockerd (per-interface sysctls, interface names, plugin-specific keys); no check reads every key'),
    GwPriority: allow("which of the container's own networks gives its default route"),
    DNSNames: bounded(R.network, "DNS names of the container in the network's embedded DNS (filled in by dockerd from name and aliases): only on a network in allowedNetworks")
  },
  EndpointIPAMConfig: {
    IPv4Address: allow('static address on a user-defined network; IPAM refuses one in use or outside the subnet'),
    IPv6Address: allow('static address on a user-defined network; IPAM refuses one in use or outside the subnet'),
    LinkLocalIPs: allow('extra link-local addresses on the container own interface')
  },
  HealthConfig: {
    Test: allow('dockerd runs it inside the container like an exec, as the container user'),
    Interval: bounded(R.healthcheck, 'time between checks, each an exec that starts a process on the host through containerd and runc: 0 (default) or at least 1 s (dockerd allows 1 ms)'),
    Timeout: bounded(R.healthcheck, 'time a check may take: 0 (default) or at least 1 s'),
    Retries: bounded(R.healthcheck, 'failures before unhealthy: 0 to 100'),
    StartPeriod: bounded(R.healthcheck, 'grace period at start: 0 (default) or at least 1 s'),
    StartInterval: bounded(R.healthcheck, 'time between checks during the start period, each an exec on the host: 0 (default) or at least 1 s')
  },
  LogConfig: {
    Type: dflt(R.logDriver, 'only allowedLogDrivers (syslog/gelf/fluentd/awslogs... reach out from the host or use its credentials); logs.defaultDriver (json-file) injected when empty'),
    Config: dflt(R.logOptions, 'only rotation and metadata options (max-size, max-file, compress, labels, env, tag...); addresses, TLS file paths and dockerd buffers refused; max-size and max-file capped (logs.maxSize, logs.maxFile) and, for json-file and local, injected when absent (logs.defaultMaxSize, logs.defaultMaxFile)')
  },
  RestartPolicy: {
    Name: bounded(R.restart, 'one of the documented policies'),
    MaximumRetryCount: bounded(R.restart, 'non-negative, only with on-failure')
  },
  PortBinding: {
    HostIp: bounded(R.ports, 'the host address to bind: only allowedHostIps'),
    HostPort: bounded(R.portBinding, 'the host port (range) to bind: within hostPortRange')
  },
  Mount: {
    Target: allow('path inside the container'),
    Source: bounded([R.bindMount, R.image, R.volumeRef], 'bind: a host path under allowedBindPrefixes; image: the image allow-list; volume: a volume name the caller owns (created owner-labelled by the gateway when new), or empty for an anonymous volume'),
    Type: bounded(R.mountType, 'bind, volume, tmpfs or image only'),
    ReadOnly: bounded(R.bindMount, 'binds must be read-only when requireReadOnlyBinds'),
    Consistency: allow('Docker Desktop file-sharing hint; ignored on Linux'),
    BindOptions: allow(STRUCT),
    VolumeOptions: allow(STRUCT),
    TmpfsOptions: allow(STRUCT),
    ImageOptions: allow(STRUCT)
  },
  BindOptions: {
    Propagation: allow('mount propagation of an allowed bind, as in a Binds entry; new mounts need CAP_SYS_ADMIN, bounded by `capabilities`'),
    NonRecursive: allow('binds the allowed host path without its submounts'),
    CreateMountpoint: bounded(R.bindMount, 'dockerd creates the missing Source as root: only under allowedBindPrefixes'),
    ReadOnlyNonRecursive: deny('leaves submounts of a read-only bind writable, which would defeat requireReadOnlyBinds'),
    ReadOnlyForceRecursive: allow('makes every submount of a read-only bind read-only too: only ever less access')
  },
  VolumeOptions: {
    NoCopy: allow('skips copying image content into a new volume'),
    Labels: bounded(R.volumeRef, 'labels of a new named volume (the gateway creates it with them); the owner label is the gateway own and refused'),
    DriverConfig: allow(STRUCT),
    Subpath: allow('a subdirectory inside a volume the caller owns (volume-ref), opened by dockerd without following symlinks out of it')
  },
  DriverConfig: {
    Name: bounded(R.volumeDriver, 'only the local driver'),
    Options: bounded(R.volumeDriver, 'local driver options (type=none,o=bind,device=<host path>) are refused')
  },
  TmpfsOptions: {
    SizeBytes: bounded(R.tmpfs, 'size of the tmpfs'),
    Mode: bounded(R.tmpfs, 'permission bits of the tmpfs root'),
    Options: bounded(R.tmpfs, 'raw mount options passed to runc (exec, noexec...)')
  },
  ImageOptions: {
    Subpath: allow('a subdirectory inside the mounted image, resolved by dockerd within it')
  },
  DeviceMapping: {
    PathOnHost: bounded(R.devices, 'part of Devices, refused when non-empty'),
    PathInContainer: bounded(R.devices, 'part of Devices, refused when non-empty'),
    CgroupPermissions: bounded(R.devices, 'part of Devices, refused when non-empty')
  },
  DeviceRequest: {
    Driver: bounded(R.devices, 'part of DeviceRequests, refused when non-empty'),
    Count: bounded(R.devices, 'part of DeviceRequests, refused when non-empty'),
    DeviceIDs: bounded(R.devices, 'part of DeviceRequests, refused when non-empty'),
    Capabilities: bounded(R.devices, 'part of DeviceRequests, refused when non-empty'),
    Options: bounded(R.devices, 'part of DeviceRequests, refused when non-empty')
  },
  WeightDevice: {
    Path: deny(BLKIO_DEVICE),
    Weight: deny('part of BlkioWeightDevice, which is denied')
  },
  ThrottleDevice: {
    Path: deny(BLKIO_DEVICE),
    Rate: deny('part of a BlkioDevice* list, which is denied')
  },
  Ulimit: {
    Name: bounded(R.ulimits, 'only the names in ulimitCaps'),
    Soft: bounded(R.ulimits, 'within the cap of that name, never -1'),
    Hard: bounded(R.ulimits, 'within the cap of that name, never -1')
  },
  ExecConfig: {
    AttachStdin: allow('which streams dockerd wires to the exec'),
    AttachStdout: allow('which streams dockerd wires to the exec'),
    AttachStderr: allow('which streams dockerd wires to the exec'),
    DetachKeys: allow('key sequence dockerd watches for on the caller own stream'),
    Tty: allow('allocates a TTY for the exec process'),
    Env: allow('environment of the exec process inside the container'),
    Cmd: allow('the command run inside the caller own container (a non-empty Cmd is required)'),
    Privileged: bounded(R.execPrivileged, 'every capability for the exec process: true refused unless exec.allowPrivileged'),
    User: bounded(R.execRootUser, 'root (0, root, :gid...) refused unless exec.allowRootUser'),
    WorkingDir: allow('a directory inside the container'),
    ConsoleSize: allow('initial size of the exec TTY; the docker CLI sends it')
  },
  UpdateConfig: {
    ...RESOURCES,
    RestartPolicy: allow(STRUCT)
  },
  Empty: {}
}
