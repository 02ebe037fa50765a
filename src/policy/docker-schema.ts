/**
 * The field tree of the JSON bodies the policy reads: which keys each Go
 * struct of the Docker Engine API has, and what each key holds.
 *
 * How it was derived (a throwaway script, not committed): load the swagger
 * files in ../shared/reference (v1.41.yaml, v1.43.yaml, v1.55.yaml and
 * swagger-HEAD-v1.56.yaml, moby/moby at b985e231), start at the body
 * parameter of `POST /containers/create`, `POST /containers/{id}/exec` and
 * `POST /containers/{id}/update`, resolve `$ref` and `allOf`, and take the
 * UNION of the fields of every version, so bodies written for a newer API keep
 * their newer fields. Objects with `properties` are structs, objects with
 * `additionalProperties` are maps, swagger types map to the shapes below. The
 * versions agreed on every shared field (no type conflicts). A trailing
 * comment marks fields that are not in all four files.
 *
 * Hand corrections where swagger and the Go types disagree (the daemon code
 * wins, see container-endpoints.md):
 * - `Cmd`, `Entrypoint`, `Shell`, `CapAdd`, `CapDrop` are `strslice.StrSlice`
 *   in Go, which also accepts a single JSON string ("CapAdd": "SYS_ADMIN").
 * - `ExposedPorts` and `Volumes` are `map[string]struct{}`: any object value is
 *   accepted and its keys are ignored.
 * - names of inline swagger objects are the Go type names (`WeightDevice`,
 *   `Ulimit`, `BindOptions`, ...); `CreateBody` is the create wrapper
 *   (container.Config plus HostConfig and NetworkingConfig).
 *
 * Shapes: 'string' | 'bool' | 'int' | 'num' | 'any' | 'strslice' |
 * 'struct:<Name>' | 'array:<shape>' | 'map:<shape>'. Map keys are data and are
 * never folded; struct keys are matched the way Go's encoding/json does.
 */
export type Shape = string

const RESOURCES = {
  CpuShares: 'int',
  Memory: 'int',
  CgroupParent: 'string',
  BlkioWeight: 'int',
  BlkioWeightDevice: 'array:struct:WeightDevice',
  BlkioDeviceReadBps: 'array:struct:ThrottleDevice',
  BlkioDeviceWriteBps: 'array:struct:ThrottleDevice',
  BlkioDeviceReadIOps: 'array:struct:ThrottleDevice',
  BlkioDeviceWriteIOps: 'array:struct:ThrottleDevice',
  CpuPeriod: 'int',
  CpuQuota: 'int',
  CpuRealtimePeriod: 'int',
  CpuRealtimeRuntime: 'int',
  CpusetCpus: 'string',
  CpusetMems: 'string',
  Devices: 'array:struct:DeviceMapping',
  DeviceCgroupRules: 'array:string',
  DeviceRequests: 'array:struct:DeviceRequest',
  KernelMemory: 'int', // only in v1.41
  KernelMemoryTCP: 'int', // only in v1.41, v1.43
  MemoryReservation: 'int',
  MemorySwap: 'int',
  MemorySwappiness: 'int',
  NanoCpus: 'int',
  OomKillDisable: 'bool',
  Init: 'bool',
  PidsLimit: 'int',
  Ulimits: 'array:struct:Ulimit',
  CpuCount: 'int',
  CpuPercent: 'int',
  IOMaximumIOps: 'int',
  IOMaximumBandwidth: 'int'
} as const

export const STRUCTS: Readonly<Record<string, Readonly<Record<string, Shape>>>> = {
  CreateBody: {
    Hostname: 'string',
    Domainname: 'string',
    User: 'string',
    AttachStdin: 'bool',
    AttachStdout: 'bool',
    AttachStderr: 'bool',
    ExposedPorts: 'map:struct:Empty', // Go type, see header
    Tty: 'bool',
    OpenStdin: 'bool',
    StdinOnce: 'bool',
    Env: 'array:string',
    Cmd: 'strslice', // Go type, see header
    Healthcheck: 'struct:HealthConfig',
    ArgsEscaped: 'bool',
    Image: 'string',
    Volumes: 'map:struct:Empty', // Go type, see header
    WorkingDir: 'string',
    Entrypoint: 'strslice', // Go type, see header
    NetworkDisabled: 'bool',
    MacAddress: 'string', // only in v1.41, v1.43
    OnBuild: 'array:string',
    Labels: 'map:string',
    StopSignal: 'string',
    StopTimeout: 'int',
    Shell: 'strslice', // Go type, see header
    HostConfig: 'struct:HostConfig',
    NetworkingConfig: 'struct:NetworkingConfig'
  },
  HostConfig: {
    ...RESOURCES,
    Binds: 'array:string',
    ContainerIDFile: 'string',
    LogConfig: 'struct:LogConfig',
    NetworkMode: 'string',
    PortBindings: 'map:array:struct:PortBinding',
    RestartPolicy: 'struct:RestartPolicy',
    AutoRemove: 'bool',
    VolumeDriver: 'string',
    VolumesFrom: 'array:string',
    Mounts: 'array:struct:Mount',
    CapAdd: 'strslice', // Go type, see header
    CapDrop: 'strslice', // Go type, see header
    CgroupnsMode: 'string',
    Dns: 'array:string',
    DnsOptions: 'array:string',
    DnsSearch: 'array:string',
    ExtraHosts: 'array:string',
    GroupAdd: 'array:string',
    IpcMode: 'string',
    Cgroup: 'string',
    Links: 'array:string',
    OomScoreAdj: 'int',
    PidMode: 'string',
    Privileged: 'bool',
    PublishAllPorts: 'bool',
    ReadonlyRootfs: 'bool',
    SecurityOpt: 'array:string',
    StorageOpt: 'map:string',
    Tmpfs: 'map:string',
    UTSMode: 'string',
    UsernsMode: 'string',
    ShmSize: 'int',
    Sysctls: 'map:string',
    Runtime: 'string',
    ConsoleSize: 'array:int',
    Isolation: 'string',
    MaskedPaths: 'array:string',
    ReadonlyPaths: 'array:string',
    Annotations: 'map:string' // v1.43+
  },
  NetworkingConfig: {
    EndpointsConfig: 'map:struct:EndpointSettings'
  },
  EndpointSettings: {
    IPAMConfig: 'struct:EndpointIPAMConfig',
    Links: 'array:string',
    Aliases: 'array:string',
    NetworkID: 'string',
    EndpointID: 'string',
    Gateway: 'string',
    IPAddress: 'string',
    IPPrefixLen: 'int',
    IPv6Gateway: 'string',
    GlobalIPv6Address: 'string',
    GlobalIPv6PrefixLen: 'int',
    MacAddress: 'string',
    DriverOpts: 'map:string',
    GwPriority: 'int', // v1.55+
    DNSNames: 'array:string' // v1.55+
  },
  EndpointIPAMConfig: {
    IPv4Address: 'string',
    IPv6Address: 'string',
    LinkLocalIPs: 'array:string'
  },
  HealthConfig: {
    Test: 'array:string',
    Interval: 'int',
    Timeout: 'int',
    Retries: 'int',
    StartPeriod: 'int',
    StartInterval: 'int' // v1.55+
  },
  LogConfig: {
    Type: 'string',
    Config: 'map:string'
  },
  RestartPolicy: {
    Name: 'string',
    MaximumRetryCount: 'int'
  },
  PortBinding: {
    HostIp: 'string',
    HostPort: 'string'
  },
  Mount: {
    Target: 'string',
    Source: 'string',
    Type: 'string',
    ReadOnly: 'bool',
    Consistency: 'string',
    BindOptions: 'struct:BindOptions',
    VolumeOptions: 'struct:VolumeOptions',
    TmpfsOptions: 'struct:TmpfsOptions',
    ImageOptions: 'struct:ImageOptions' // v1.55+
  },
  BindOptions: {
    Propagation: 'string',
    NonRecursive: 'bool',
    CreateMountpoint: 'bool', // v1.43+
    ReadOnlyNonRecursive: 'bool', // v1.55+
    ReadOnlyForceRecursive: 'bool' // v1.55+
  },
  VolumeOptions: {
    NoCopy: 'bool',
    Labels: 'map:string',
    DriverConfig: 'struct:DriverConfig',
    Subpath: 'string' // v1.55+
  },
  DriverConfig: {
    Name: 'string',
    Options: 'map:string'
  },
  TmpfsOptions: {
    SizeBytes: 'int',
    Mode: 'int',
    Options: 'array:array:string' // v1.55+
  },
  ImageOptions: {
    Subpath: 'string' // v1.55+
  },
  DeviceMapping: {
    PathOnHost: 'string',
    PathInContainer: 'string',
    CgroupPermissions: 'string'
  },
  DeviceRequest: {
    Driver: 'string',
    Count: 'int',
    DeviceIDs: 'array:string',
    Capabilities: 'array:array:string',
    Options: 'map:string'
  },
  WeightDevice: {
    Path: 'string',
    Weight: 'int'
  },
  ThrottleDevice: {
    Path: 'string',
    Rate: 'int'
  },
  Ulimit: {
    Name: 'string',
    Soft: 'int',
    Hard: 'int'
  },
  ExecConfig: {
    AttachStdin: 'bool',
    AttachStdout: 'bool',
    AttachStderr: 'bool',
    DetachKeys: 'string',
    Tty: 'bool',
    Env: 'array:string',
    Cmd: 'array:string',
    Privileged: 'bool',
    User: 'string',
    WorkingDir: 'string',
    ConsoleSize: 'array:int' // v1.43+
  },
  UpdateConfig: {
    ...RESOURCES,
    RestartPolicy: 'struct:RestartPolicy'
  },
  Empty: {}
}

/** The struct each body decodes into. */
export const ROOT_STRUCTS = {
  create: 'CreateBody',
  exec: 'ExecConfig',
  update: 'UpdateConfig'
} as const

/**
 * Keys of the legacy create wrapper that old daemons (Engine <= 26, API <=
 * 1.45) read at the TOP LEVEL of a create body: every HostConfig field (the
 * wrapper embedded `*HostConfig`) plus the deprecated `Cpuset`
 * (container-endpoints.md §4, moby commit 2954b05b removed them).
 */
export const LEGACY_TOP_LEVEL_EXTRA = ['Cpuset'] as const
