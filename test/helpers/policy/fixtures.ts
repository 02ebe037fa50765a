/**
 * Create, exec and update bodies exactly as real clients send them, captured
 * with a tiny HTTP server standing in for the daemon (API 1.41):
 *   docker CLI 28.2.2, docker-py 7.1.0 (python3-docker), dockerode 4 (docker-modem).
 * Plain strings, so the tests feed the policy the same bytes.
 */

/** `docker create dgw-busybox:test` */
export const CLI_CREATE_PLAIN = '{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"dgw-busybox:test","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},"NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}}\n'

/**
 * `docker create -p 8080:80 -v /srv/data:/data:ro --memory 512m --cpus 1.5 --cap-add NET_ADMIN
 *  --security-opt no-new-privileges -e A=1 --label team=x --ulimit nofile=1024:2048
 *  --restart on-failure:3 --name capt dgw-busybox:test sh -c 'echo hi'`
 */
export const CLI_CREATE_FULL = '{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"ExposedPorts":{"80/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=1"],"Cmd":["sh","-c","echo hi"],"Image":"dgw-busybox:test","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{"team":"x"},"HostConfig":{"Binds":["/srv/data:/data:ro"],"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default","PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]},"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":["CAP_NET_ADMIN"],"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":["no-new-privileges"],"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":536870912,"NanoCpus":1500000000,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0,"Ulimits":[{"Name":"nofile","Hard":2048,"Soft":1024}],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},"NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}}\n'

/** `docker update --memory 256m --cpus 1 --pids-limit 100 <id>` */
export const CLI_UPDATE = '{"CpuShares":0,"Memory":268435456,"NanoCpus":1000000000,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":null,"BlkioDeviceReadBps":null,"BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":null,"BlkioDeviceWriteIOps":null,"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":null,"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":100,"Ulimits":null,"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"RestartPolicy":{"Name":"","MaximumRetryCount":0}}\n'

/**
 * docker-py `create_container('dgw-busybox:test', command='echo hi', labels=..., environment=...,
 * host_config=create_host_config(binds={'/srv/data': {'bind': '/data', 'mode': 'rw'}},
 * port_bindings={80: 8080}, mem_limit='512m', cpu_rt_period=1000, pids_limit=100, cap_add=['NET_ADMIN']))`.
 * Note `CPURealtimePeriod`: docker-py's spelling of CpuRealtimePeriod.
 */
export const PY_CREATE = '{"Tty": false, "OpenStdin": false, "StdinOnce": false, "AttachStdin": false, "AttachStdout": true, "AttachStderr": true, "Env": ["A=1"], "Cmd": ["echo", "hi"], "Image": "dgw-busybox:test", "NetworkDisabled": false, "HostConfig": {"Memory": 536870912, "NetworkMode": "default", "CapAdd": ["NET_ADMIN"], "Binds": ["/srv/data:/data:rw"], "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}, "CPURealtimePeriod": 1000, "PidsLimit": 100}, "Labels": {"team": "x"}}'

/** docker-py `exec_create('abc', ['ls', '-l'], user='nobody')`; `Container` is not an API field. */
export const PY_EXEC = '{"Container": "abc", "User": "nobody", "Privileged": false, "Tty": false, "AttachStdin": false, "AttachStdout": true, "AttachStderr": true, "Cmd": ["ls", "-l"]}'

/** dockerode `createContainer({Image, Cmd: ['sh'], HostConfig: {Binds: ['/srv/data:/data:rw,z'], Memory: 1 << 29}})` */
export const DOCKERODE_CREATE = '{"Image":"dgw-busybox:test","Cmd":["sh"],"HostConfig":{"Binds":["/srv/data:/data:rw,z"],"Memory":536870912}}'

/** dockerode `container.exec({Cmd: ['id'], AttachStdout: true})` */
export const DOCKERODE_EXEC = '{"Cmd":["id"],"AttachStdout":true}'
