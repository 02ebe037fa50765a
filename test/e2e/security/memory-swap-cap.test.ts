import { readFileSync } from 'node:fs'
import t from 'tap'
import { cleanupLabel, docker, testLabel, containersLabelled } from '../../helpers/docker'
import { requireDaemon } from '../../helpers/env'
import { startGateway } from '../../helpers/gateway'
import { send } from '../../helpers/policy/client'

/**
 * Issue 10 finding 6: only MemorySwap -1 was refused, so a positive value had
 * no cap (1 PiB was accepted, on create and on update). MemorySwap is
 * memory+swap: now it is capped (resources.maxMemorySwap, by default
 * 2 x maxMemory = 16 GiB), must be at least Memory, and a create without it
 * gets 2 x Memory made explicit. Asserted on the daemon: no container, an
 * unchanged HostConfig, and the memory+swap limit the kernel enforces
 * (memory.memsw.limit_in_bytes of the container's cgroup, read on the host).
 */
const MiB = 1024 ** 2
const GiB = 1024 ** 3
const PiB = 1024 ** 5

const d = requireDaemon(t)
if (d !== undefined) {
  const label = testLabel(__filename)
  t.teardown(async () => { await cleanupLabel(label) })
  const scope = 'containers:read containers:write'

  const onDaemon = async (marker: string): Promise<string[]> => await containersLabelled(label.filter, `dgw.case=${marker}`)

  /** The memory+swap limit the kernel holds for a running container (cgroup v1 memory controller), or undefined without swap accounting. */
  async function memswLimit (id: string): Promise<number | undefined> {
    const pid = (await docker(`/containers/${id}/json`)).body.State.Pid as number
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find(l => /^[0-9]+:([^:]*,)?memory(,[^:]*)?:/.test(l))
    if (line === undefined) return undefined
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1)
    try {
      return Number(readFileSync(`/sys/fs/cgroup/memory${path}/memory.memsw.limit_in_bytes`, 'utf8').trim())
    } catch {
      return undefined
    }
  }

  t.test('a positive MemorySwap above the cap is refused on create and leaves no container', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'swap-cap', scope })
    for (const [marker, hostConfig] of [['pib-with-memory', { Memory: GiB, MemorySwap: PiB }], ['pib-alone', { MemorySwap: PiB }], ['below-memory', { Memory: 512 * MiB, MemorySwap: 256 * MiB }]] as const) {
      const res = await send(`${gw.url}/containers/create`, token, 'POST', { Image: d.image, Cmd: ['true'], Labels: { ...label.labels, 'dgw.case': marker }, HostConfig: hostConfig })
      t.equal(res.status, 403, `${marker}: 403`)
      t.match(res.json?.message, /^policy denied: HostConfig\.MemorySwap=[0-9]+ .*\(rule: resources\)$/, `${marker}: Docker-shaped message naming the field: ${res.json?.message as string}`)
      t.same(await onDaemon(marker), [], `${marker}: no container on the daemon`)
    }
  })

  t.test('a create without MemorySwap gets 2 x Memory, which the kernel enforces; an update cannot lift it past the cap', async t => {
    const gw = await startGateway(t, { GATEWAY_UPSTREAM: d.url })
    const token = gw.token({ sub: 'swap-cap', scope })
    const created = await send(`${gw.url}/containers/create`, token, 'POST', { Image: d.image, Cmd: ['sleep', '60'], Labels: { ...label.labels, 'dgw.case': 'injected' }, HostConfig: { Memory: 256 * MiB } })
    t.equal(created.status, 201, created.text)
    const id = created.json.Id as string
    t.equal((await send(`${gw.url}/containers/${id}/start`, token, 'POST')).status, 204)
    const hostConfig = async (): Promise<{ Memory: number, MemorySwap: number }> => (await docker(`/containers/${id}/json`)).body.HostConfig
    t.same(await hostConfig(), { ...(await hostConfig()), Memory: 256 * MiB, MemorySwap: 512 * MiB }, 'inspect: MemorySwap is 2 x Memory')
    const kernel = await memswLimit(id)
    if (kernel !== undefined) t.equal(kernel, 512 * MiB, 'the cgroup memory+swap limit is 512 MiB')
    else t.comment('no swap accounting on this host: the kernel limit cannot be read')

    const refused = await send(`${gw.url}/containers/${id}/update`, token, 'POST', { MemorySwap: PiB })
    t.equal(refused.status, 403, 'update to 1 PiB: 403')
    t.match(refused.json?.message, /MemorySwap=1125899906842624 .* is above the maximum 17179869184 .*\(rule: resources\)/)
    t.same([(await hostConfig()).MemorySwap, await memswLimit(id)], [512 * MiB, kernel], 'HostConfig and the kernel limit are unchanged')

    const unlimited = await send(`${gw.url}/containers/${id}/update`, token, 'POST', { Memory: 256 * MiB, MemorySwap: -1 })
    t.equal(unlimited.status, 403, 'update to unlimited (-1): 403')

    // Control: an update within the cap reaches the daemon and the kernel, so the probe sees changes.
    const ok = await send(`${gw.url}/containers/${id}/update`, token, 'POST', { Memory: 256 * MiB, MemorySwap: GiB })
    t.equal(ok.status, 200, ok.text)
    t.equal((await hostConfig()).MemorySwap, GiB, 'an update within the cap is applied')
    if (kernel !== undefined) t.equal(await memswLimit(id), GiB, 'and enforced by the kernel')
  })
}
