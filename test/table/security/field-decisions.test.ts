import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { generate, OUTPUT } from '../../../scripts/gen-docker-schema'
import { DOCS_OUTPUT, renderPolicyDocs } from '../../../scripts/gen-policy-docs'
import { resolvePolicyConfig, type PolicyConfig } from '../../../src/policy/config'
import { vetCreate } from '../../../src/policy/create'
import { ROOT_STRUCTS, STRUCTS } from '../../../src/policy/docker-schema'
import { vetExec } from '../../../src/policy/exec'
import { FIELD_DECISIONS, type FieldDecision } from '../../../src/policy/field-decisions'
import type { PolicyContext } from '../../../src/policy/types'
import { vetUpdate } from '../../../src/policy/update'

/**
 * Issue 10 "every forwarded value is an explicit decision": every field of
 * the create, exec and update bodies, at every pinned API version, has a
 * decision in src/policy/field-decisions.ts, and every decision that says a
 * rule bounds or defaults the field names a rule the policy really applies.
 *
 * The swagger files are read here on their own (yaml + a small $ref/allOf
 * walker), not through the generator, so a field the generator lost would
 * show up as a field missing from docker-schema.ts.
 */

const ENGINE_API = join(__dirname, '..', '..', '..', 'scripts', 'engine-api')
const FILES = ['v1.41.yaml', 'v1.43.yaml', 'v1.55.yaml', 'swagger-HEAD-v1.56.yaml']
const BODIES = [
  { path: '/containers/create', root: ROOT_STRUCTS.create },
  { path: '/containers/{id}/exec', root: ROOT_STRUCTS.exec },
  { path: '/containers/{id}/update', root: ROOT_STRUCTS.update }
]

type Schema = Record<string, any>
type Table = Readonly<Record<string, Readonly<Record<string, FieldDecision>>>>

/** One body field as swagger describes it, placed on the schema's struct. */
interface FieldPath { path: string, struct: string, field: string }

function swaggerFields (doc: Schema, bodyPath: string, root: string): { fields: FieldPath[], problems: string[] } {
  const fields: FieldPath[] = []
  const problems: string[] = []
  const resolve = (s: Schema): Schema => {
    let cur = s
    for (let i = 0; i < 10; i++) {
      if (typeof cur.$ref === 'string') cur = doc.definitions[cur.$ref.replace('#/definitions/', '')]
      else if (Array.isArray(cur.allOf) && cur.allOf.length === 1) cur = cur.allOf[0]
      else return cur
    }
    throw new Error('$ref loop')
  }
  const properties = (s: Schema): Array<[string, Schema]> => {
    const r = resolve(s)
    const own = Object.entries<Schema>(r.properties ?? {})
    return [...(r.allOf ?? []).flatMap((part: Schema) => properties(part)), ...own]
  }
  const isObject = (s: Schema): boolean => { const r = resolve(s); return r.properties !== undefined || r.allOf !== undefined }

  const walkStruct = (s: Schema, struct: string, where: string): void => {
    for (const [field, fs] of properties(s)) {
      const path = where === '' ? field : `${where}.${field}`
      fields.push({ path, struct, field })
      const shape = STRUCTS[struct]?.[field]
      if (shape === undefined) {
        problems.push(`${path}: ${struct}.${field} is not in docker-schema.ts`)
        continue
      }
      walkValue(fs, shape, path)
    }
  }
  const walkValue = (s: Schema, shape: string, path: string): void => {
    const r = resolve(s)
    if (shape.startsWith('struct:')) {
      if (isObject(r)) walkStruct(r, shape.slice('struct:'.length), path)
    } else if (shape.startsWith('array:')) {
      if (r.items !== undefined) walkValue(r.items, shape.slice('array:'.length), `${path}[]`)
      else problems.push(`${path}: docker-schema.ts says ${shape}, swagger has no items`)
    } else if (shape.startsWith('map:')) {
      if (typeof r.additionalProperties === 'object') walkValue(r.additionalProperties, shape.slice('map:'.length), `${path}{}`)
      else problems.push(`${path}: docker-schema.ts says ${shape}, swagger has no additionalProperties`)
    } else if (isObject(r)) {
      problems.push(`${path}: swagger has an object, docker-schema.ts says ${shape}`)
    }
  }

  const param = (doc.paths[bodyPath].post.parameters as Schema[]).find(p => p.in === 'body')
  if (param === undefined) throw new Error(`no body for ${bodyPath}`)
  walkStruct(param.schema, root, '')
  return { fields, problems }
}

const docs = FILES.map(file => ({ file, doc: parse(readFileSync(join(ENGINE_API, file), 'utf8'), { maxAliasCount: -1 }) as Schema }))

function decided (table: Table, struct: string, field: string): boolean {
  const fields = table[struct]
  return fields !== undefined && Object.hasOwn(fields, field)
}

/** What the completeness check reports for a table: empty when every field of every version is decided. */
function undecided (table: Table): string[] {
  const out = new Set<string>()
  for (const { file, doc } of docs) {
    for (const body of BODIES) {
      for (const f of swaggerFields(doc, body.path, body.root).fields) {
        if (!decided(table, f.struct, f.field)) out.add(`${file} POST ${body.path}: ${f.path} (${f.struct}.${f.field})`)
      }
    }
  }
  for (const [struct, fields] of Object.entries(STRUCTS)) {
    for (const field of Object.keys(fields)) if (!decided(table, struct, field)) out.add(`docker-schema.ts: ${struct}.${field}`)
  }
  return [...out]
}

t.test('every body field of every pinned API version has a decision', async t => {
  let total = 0
  for (const { file, doc } of docs) {
    for (const body of BODIES) {
      const { fields, problems } = swaggerFields(doc, body.path, body.root)
      t.same(problems, [], `${file} POST ${body.path}: every swagger field is in docker-schema.ts with a matching shape`)
      t.ok(fields.length >= (body.root === 'CreateBody' ? 150 : 10), `${file} POST ${body.path}: ${fields.length} field paths`)
      total += fields.length
    }
  }
  t.ok(total > 800, `${total} field paths over ${FILES.length} versions`)
  t.same(undecided(FIELD_DECISIONS), [], 'no field lacks a decision')
})

t.test('the table decides only schema fields, each exactly once', async t => {
  const stale: string[] = []
  for (const [struct, fields] of Object.entries(FIELD_DECISIONS)) {
    if (STRUCTS[struct] === undefined) stale.push(struct)
    for (const field of Object.keys(fields)) if (!Object.hasOwn(STRUCTS[struct] ?? {}, field)) stale.push(`${struct}.${field}`)
    for (const [field, d] of Object.entries(fields)) {
      if (d.why.trim().length < 10) stale.push(`${struct}.${field}: why is too short`)
      if ((d.decision === 'bounded' || d.decision === 'default') && d.rules.length === 0) stale.push(`${struct}.${field}: names no rule`)
    }
  }
  t.same(stale, [], 'no entry for a field the schema does not have')
})

t.test('deleting any single entry makes the completeness check fail', async t => {
  let entries = 0
  const missed: string[] = []
  for (const [struct, fields] of Object.entries(FIELD_DECISIONS)) {
    for (const field of Object.keys(fields)) {
      entries++
      const { [field]: _gone, ...rest } = fields
      const report = undecided({ ...FIELD_DECISIONS, [struct]: rest })
      if (!report.some(line => line.endsWith(`(${struct}.${field})`) || line.endsWith(`: ${struct}.${field}`))) missed.push(`${struct}.${field}`)
    }
  }
  t.ok(entries > 200, `${entries} entries tried`)
  t.same(missed, [], 'every deletion is reported')
})

// ---- Rule ids: each one a decision names is really applied by the policy ----

const who: PolicyContext = { principal: 'alice', scopes: ['containers:write'], ownerLabel: 'docker-gateway.owner', ownershipEnabled: true }
const base = resolvePolicyConfig({ allowedBindPrefixes: ['/srv/data'] })
const hc = (fields: Record<string, unknown>): Record<string, unknown> => ({ Image: 'busybox', HostConfig: fields })

interface Probe {
  vet: 'create' | 'exec' | 'update'
  body: Record<string, unknown>
  config?: PolicyConfig
}

/** For each rule id, a body that breaks it. */
const VIOLATION_PROBES: Readonly<Record<string, Probe>> = {
  resources: { vet: 'create', body: hc({ MemorySwap: -1 }) },
  ports: { vet: 'create', body: hc({ PortBindings: { '80/tcp': [{ HostIp: '10.9.9.9', HostPort: '8080' }] } }) },
  'port-binding': { vet: 'create', body: hc({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '80' }] } }) },
  'publish-all-ports': { vet: 'create', body: hc({ PublishAllPorts: true }) },
  'bind-mount': { vet: 'create', body: hc({ Binds: ['/etc:/x'] }) },
  'volume-driver': { vet: 'create', body: hc({ VolumeDriver: 'plugin' }) },
  'mount-type': { vet: 'create', body: hc({ Mounts: [{ Type: 'npipe', Source: 'x', Target: '/x' }] }) },
  image: { vet: 'create', body: { Image: 'busybox' }, config: resolvePolicyConfig({ imageAllowList: ['nginx:*'] }) },
  'tmpfs-options': { vet: 'create', body: hc({ Tmpfs: { '/t': 'rbind' } }) },
  'host-namespace': { vet: 'create', body: hc({ PidMode: 'host' }) },
  'namespace-mode': { vet: 'create', body: hc({ UTSMode: 'other' }) },
  'container-ref': { vet: 'create', body: hc({ VolumesFrom: [''] }) },
  // The pure half of volume-ref (the owner half needs the daemon: test/e2e/security/volume-ownership).
  'volume-ref': { vet: 'create', body: hc({ Mounts: [{ Type: 'volume', Source: 'v1', Target: '/v', VolumeOptions: { Labels: { 'docker-gateway.owner': 'bob' } } }] }) },
  devices: { vet: 'update', body: { Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] } },
  ulimits: { vet: 'create', body: hc({ Ulimits: [{ Name: 'rtprio', Soft: 1, Hard: 1 }] }) },
  'restart-policy': { vet: 'update', body: { RestartPolicy: { Name: 'sometimes' } } },
  'cgroup-parent': { vet: 'create', body: hc({ CgroupParent: 'system.slice' }) },
  'cpu-realtime': { vet: 'create', body: hc({ CpuRealtimeRuntime: 1 }) },
  'oom-kill-disable': { vet: 'create', body: hc({ OomKillDisable: true }) },
  'oom-score-adj': { vet: 'create', body: hc({ OomScoreAdj: -500 }) },
  privileged: { vet: 'create', body: hc({ Privileged: true }) },
  capabilities: { vet: 'create', body: hc({ CapAdd: ['SYS_ADMIN'] }) },
  'security-opt': { vet: 'create', body: hc({ SecurityOpt: ['seccomp=unconfined'] }) },
  'masked-paths': { vet: 'create', body: hc({ MaskedPaths: [] }) },
  runtime: { vet: 'create', body: hc({ Runtime: 'io.containerd.evil.v2' }) },
  annotations: { vet: 'create', body: hc({ Annotations: { 'io.katacontainers.config.hypervisor.path': '/x' } }) },
  'log-driver': { vet: 'create', body: hc({ LogConfig: { Type: 'syslog' } }) },
  'log-options': { vet: 'create', body: hc({ LogConfig: { Type: 'json-file', Config: { 'syslog-address': 'udp://127.0.0.1:1' } } }) },
  sysctls: { vet: 'create', body: hc({ Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' } }) },
  'owner-label': { vet: 'create', body: { Image: 'busybox', Labels: { 'docker-gateway.owner': 'bob' } } },
  'required-labels': { vet: 'create', body: { Image: 'busybox' }, config: resolvePolicyConfig({ requiredLabels: ['team'] }) },
  'exec-privileged': { vet: 'exec', body: { Cmd: ['sh'], Privileged: true } },
  'exec-root-user': { vet: 'exec', body: { Cmd: ['sh'], User: '0' } },
  network: { vet: 'create', body: hc({ NetworkMode: 'net-x' }) },
  healthcheck: { vet: 'create', body: { Image: 'busybox', Healthcheck: { Interval: 1e6 } } }
}

/** For each `default` decision (`Struct.Field`), what a create body without the field is forwarded with. */
const DEFAULT_PROBES: Readonly<Record<string, (forwarded: Record<string, any>) => boolean>> = {
  'HostConfig.Memory': b => b.HostConfig.Memory === base.resources.defaultMemory,
  'HostConfig.NanoCpus': b => b.HostConfig.NanoCpus === base.resources.defaultNanoCpus,
  'HostConfig.PidsLimit': b => b.HostConfig.PidsLimit === base.resources.defaultPidsLimit,
  'HostConfig.MemorySwap': b => b.HostConfig.MemorySwap === 2 * base.resources.defaultMemory,
  'HostConfig.ShmSize': b => b.HostConfig.ShmSize === base.resources.defaultShmSize,
  'HostConfig.CgroupnsMode': b => b.HostConfig.CgroupnsMode === 'private',
  'HostConfig.IpcMode': b => b.HostConfig.IpcMode === 'private',
  'HostConfig.LogConfig': b => b.HostConfig.LogConfig?.Type === base.logs.defaultDriver,
  'LogConfig.Type': b => b.HostConfig.LogConfig.Type === base.logs.defaultDriver,
  'LogConfig.Config': b => b.HostConfig.LogConfig.Config['max-size'] === base.logs.defaultMaxSize && b.HostConfig.LogConfig.Config['max-file'] === String(base.logs.defaultMaxFile),
  'CreateBody.Labels': b => b.Labels[who.ownerLabel] === who.principal
}

function run (p: Probe) {
  const raw = JSON.stringify(p.body)
  const config = p.config ?? base
  return p.vet === 'create' ? vetCreate(raw, config, who) : p.vet === 'exec' ? vetExec(raw, config, who) : vetUpdate(raw, config, who)
}

t.test('every rule a bounded or default decision names is applied by the policy', async t => {
  const named = new Set<string>()
  for (const fields of Object.values(FIELD_DECISIONS)) {
    for (const d of Object.values(fields)) if (d.decision === 'bounded' || d.decision === 'default') d.rules.forEach(r => named.add(r))
  }
  for (const rule of [...named].sort()) {
    const probe = VIOLATION_PROBES[rule]
    if (rule === 'cgroupns') {
      // A pure default: no violation of its own ("host" is host-namespace's); proven by DEFAULT_PROBES below.
      t.ok(DEFAULT_PROBES['HostConfig.CgroupnsMode'], 'cgroupns is proven by its injection')
      continue
    }
    if (probe === undefined) {
      t.fail(`no probe for rule ${rule}`)
      continue
    }
    const d = run(probe)
    t.ok(!d.allow && d.violations?.some(v => v.rule === rule), `rule ${rule} is emitted${d.allow ? ' (allowed!)' : `: ${d.message}`}`)
  }
})

t.test('every default decision is injected into a create body that leaves the field out', async t => {
  const d = vetCreate(JSON.stringify({ Image: 'busybox' }), base, who)
  if (!d.allow) return t.fail(d.message)
  for (const [struct, fields] of Object.entries(FIELD_DECISIONS)) {
    for (const [field, decision] of Object.entries(fields)) {
      if (decision.decision !== 'default') continue
      const check = DEFAULT_PROBES[`${struct}.${field}`]
      if (check === undefined) t.fail(`no injection probe for ${struct}.${field}`)
      else t.ok(check(d.body), `${struct}.${field} is injected`)
    }
  }
})

t.test('src/policy/docker-schema.ts is what the generator makes from the pinned files (--check)', async t => {
  t.equal(readFileSync(OUTPUT, 'utf8'), generate(), 'run `npx tsx scripts/gen-docker-schema.ts` if this fails')
})

t.test('docs/policy-fields.md is generated from the current table', async t => {
  t.equal(readFileSync(DOCS_OUTPUT, 'utf8'), renderPolicyDocs(), 'run `npx tsx scripts/gen-policy-docs.ts` if this fails')
})
