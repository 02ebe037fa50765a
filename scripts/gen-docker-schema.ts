/**
 * Generate src/policy/docker-schema.ts from the pinned Engine API definitions
 * in scripts/engine-api/ (see its README for where they come from).
 *
 *   npx tsx scripts/gen-docker-schema.ts          write the file
 *   npx tsx scripts/gen-docker-schema.ts --check  exit 1 when the committed file differs
 *
 * What it does (the header of the generated file says the same to its reader):
 * start at the body parameter of POST /containers/create, /containers/{id}/exec
 * and /containers/{id}/update in every pinned version, resolve `$ref` and
 * `allOf`, and take the UNION of the fields of every version in the oldest
 * version's order, newer fields appended. Objects with `properties` are
 * structs, objects with `additionalProperties` are maps. A field whose shape
 * differs between versions is an error, not a silent pick. The few places
 * where swagger and the Go types disagree are the explicit tables below.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { writeOrCheck } from './generated-file'

export const ENGINE_API_DIR = join(__dirname, 'engine-api')
export const OUTPUT = join(__dirname, '..', 'src', 'policy', 'docker-schema.ts')

/** Pinned inputs, oldest first; the label is what the version comments say. */
export const VERSIONS = [
  { label: 'v1.41', file: 'v1.41.yaml' },
  { label: 'v1.43', file: 'v1.43.yaml' },
  { label: 'v1.55', file: 'v1.55.yaml' },
  { label: 'v1.56', file: 'swagger-HEAD-v1.56.yaml' }
] as const

/** The body each endpoint decodes into, and the Go-side name of that struct. */
export const ROOTS = [
  { path: '/containers/create', struct: 'CreateBody', key: 'create' },
  { path: '/containers/{id}/exec', struct: 'ExecConfig', key: 'exec' },
  { path: '/containers/{id}/update', struct: 'UpdateConfig', key: 'update' }
] as const

// ---- Hand corrections (the daemon's Go types win over swagger) ----

/** Fields whose Go type is not what swagger says (container-endpoints.md). */
const GO_TYPE_OVERRIDES: Readonly<Record<string, string>> = {
  'CreateBody.ExposedPorts': 'map:struct:Empty', // map[string]struct{}
  'CreateBody.Volumes': 'map:struct:Empty', // map[string]struct{}
  'CreateBody.Cmd': 'strslice', // strslice.StrSlice
  'CreateBody.Entrypoint': 'strslice',
  'CreateBody.Shell': 'strslice',
  'HostConfig.CapAdd': 'strslice',
  'HostConfig.CapDrop': 'strslice'
}

/** Go type names of inline swagger objects (`<struct>.<field>`, `[]` for list items). */
const INLINE_NAMES: Readonly<Record<string, string>> = {
  'Resources.BlkioWeightDevice[]': 'WeightDevice',
  'Resources.Ulimits[]': 'Ulimit',
  'HostConfig.LogConfig': 'LogConfig',
  'Mount.BindOptions': 'BindOptions',
  'Mount.VolumeOptions': 'VolumeOptions',
  'VolumeOptions.DriverConfig': 'DriverConfig',
  'Mount.TmpfsOptions': 'TmpfsOptions',
  'Mount.ImageOptions': 'ImageOptions'
}

/** Swagger definitions that become a shared const spread into the structs embedding them. */
const EMBEDDED = { Resources: 'RESOURCES' } as const

/** Output order of the structs (reading order: bodies first, leaves after); every struct found must be listed. */
const STRUCT_ORDER = [
  'CreateBody', 'HostConfig', 'NetworkingConfig', 'EndpointSettings', 'EndpointIPAMConfig', 'HealthConfig',
  'LogConfig', 'RestartPolicy', 'PortBinding', 'Mount', 'BindOptions', 'VolumeOptions', 'DriverConfig',
  'TmpfsOptions', 'ImageOptions', 'DeviceMapping', 'DeviceRequest', 'WeightDevice', 'ThrottleDevice', 'Ulimit',
  'ExecConfig', 'UpdateConfig', 'Empty'
]

// ---- Reading swagger ----

type Schema = Record<string, any>

interface StructDef {
  /** Embedded definitions (e.g. Resources), spread first. */
  embeds: string[]
  /** Own fields in order. */
  fields: Map<string, string>
}

export interface VersionTree {
  label: string
  structs: Map<string, StructDef>
}

export function loadSwagger (file: string): Schema {
  return parse(readFileSync(join(ENGINE_API_DIR, file), 'utf8'), { maxAliasCount: -1 }) as Schema
}

export function bodySchema (doc: Schema, path: string): Schema {
  const body = (doc.paths?.[path]?.post?.parameters ?? []).find((p: Schema) => p.in === 'body')
  if (body?.schema === undefined) throw new Error(`no body parameter for POST ${path}`)
  return body.schema
}

function deref (doc: Schema, s: Schema): { schema: Schema, ref?: string } {
  if (typeof s.$ref !== 'string') return { schema: s }
  const m = /^#\/definitions\/(.+)$/.exec(s.$ref)
  if (m === null) throw new Error(`unsupported $ref ${s.$ref}`)
  const def = doc.definitions?.[m[1]!]
  if (def === undefined) throw new Error(`dangling $ref ${s.$ref}`)
  return { schema: def, ref: m[1]! }
}

/** Read one version's three bodies into struct definitions. */
export function readVersion (label: string, doc: Schema): VersionTree {
  const structs = new Map<string, StructDef>()

  const readStruct = (name: string, schema: Schema): void => {
    if (structs.has(name)) return
    const def: StructDef = { embeds: [], fields: new Map() }
    structs.set(name, def)
    const parts: Schema[] = schema.allOf ?? [schema]
    for (const part of parts) {
      const { schema: s, ref } = deref(doc, part)
      if (ref !== undefined && ref in EMBEDDED) {
        def.embeds.push(ref)
        readStruct(ref, s)
        continue
      }
      if (s.allOf !== undefined) throw new Error(`${name}: nested allOf is not supported`)
      for (const [field, fs] of Object.entries<Schema>(s.properties ?? {})) {
        if (def.fields.has(field)) throw new Error(`${name}.${field} appears twice`)
        const where = `${name}.${field}`
        def.fields.set(field, GO_TYPE_OVERRIDES[where] ?? shapeOf(where, fs))
      }
    }
  }

  const shapeOf = (where: string, raw: Schema): string => {
    // `allOf: [$ref]` is swagger's way to give a $ref its own description.
    if (Array.isArray(raw.allOf) && raw.allOf.length === 1) return shapeOf(where, raw.allOf[0])
    const { schema: s, ref } = deref(doc, raw)
    if (Array.isArray(s.allOf) && s.allOf.length === 1) return shapeOf(where, s.allOf[0])
    if (s.properties !== undefined || s.allOf !== undefined) {
      const name = INLINE_NAMES[where] ?? ref
      if (name === undefined) throw new Error(`${where}: inline object needs a Go name in INLINE_NAMES`)
      readStruct(name, s)
      return `struct:${name}`
    }
    switch (s.type) {
      case 'string': return 'string'
      case 'boolean': return 'bool'
      case 'integer': return 'int'
      case 'number': return 'num'
      case 'array':
        if (s.items === undefined) throw new Error(`${where}: array without items`)
        return `array:${shapeOf(`${where}[]`, s.items)}`
      case 'object':
        if (s.additionalProperties !== undefined && typeof s.additionalProperties === 'object') {
          return `map:${shapeOf(`${where}{}`, s.additionalProperties)}`
        }
        throw new Error(`${where}: object with neither properties nor additionalProperties (add a GO_TYPE_OVERRIDES entry)`)
      case undefined:
        if (s.additionalProperties !== undefined) return `map:${shapeOf(`${where}{}`, s.additionalProperties)}`
        throw new Error(`${where}: schema without a type`)
      default:
        throw new Error(`${where}: unsupported type ${String(s.type)}`)
    }
  }

  for (const root of ROOTS) readStruct(root.struct, bodySchema(doc, root.path))
  // struct:Empty only comes from the overrides; give it its (empty) definition.
  structs.set('Empty', { embeds: [], fields: new Map() })
  return { label, structs }
}

// ---- Union over versions ----

export interface UnionField { shape: string, versions: string[] }
export interface UnionStruct { embeds: string[], fields: Map<string, UnionField> }

export function unionOf (trees: readonly VersionTree[]): Map<string, UnionStruct> {
  const out = new Map<string, UnionStruct>()
  for (const tree of trees) {
    for (const [name, def] of tree.structs) {
      let u = out.get(name)
      if (u === undefined) {
        u = { embeds: [...def.embeds], fields: new Map() }
        out.set(name, u)
      } else if (u.embeds.join() !== def.embeds.join()) {
        throw new Error(`${name}: embeds differ in ${tree.label}`)
      }
      for (const [field, shape] of def.fields) {
        const f = u.fields.get(field)
        if (f === undefined) u.fields.set(field, { shape, versions: [tree.label] })
        else if (f.shape !== shape) throw new Error(`${name}.${field}: ${f.shape} in ${f.versions.join(', ')} but ${shape} in ${tree.label}`)
        else f.versions.push(tree.label)
      }
    }
  }
  return out
}

// ---- Rendering ----

const HEADER = `/**
 * The field tree of the JSON bodies the policy reads: which keys each Go
 * struct of the Docker Engine API has, and what each key holds.
 *
 * GENERATED by scripts/gen-docker-schema.ts from the pinned swagger files in
 * scripts/engine-api/ (v1.41.yaml, v1.43.yaml, v1.55.yaml and
 * swagger-HEAD-v1.56.yaml, moby/moby at b985e231); do not edit by hand, run
 * \`npx tsx scripts/gen-docker-schema.ts\` (\`--check\` tells whether this file
 * is up to date). It starts at the body parameter of \`POST /containers/create\`,
 * \`POST /containers/{id}/exec\` and \`POST /containers/{id}/update\`, resolves
 * \`$ref\` and \`allOf\`, and takes the UNION of the fields of every version, so
 * bodies written for a newer API keep their newer fields. Objects with
 * \`properties\` are structs, objects with \`additionalProperties\` are maps,
 * swagger types map to the shapes below. The versions agree on every shared
 * field (the generator fails on a type conflict). A trailing comment marks
 * fields that are not in all four files.
 *
 * Hand corrections where swagger and the Go types disagree (the daemon code
 * wins, see container-endpoints.md), applied by the generator's tables:
 * - \`Cmd\`, \`Entrypoint\`, \`Shell\`, \`CapAdd\`, \`CapDrop\` are \`strslice.StrSlice\`
 *   in Go, which also accepts a single JSON string ("CapAdd": "SYS_ADMIN").
 * - \`ExposedPorts\` and \`Volumes\` are \`map[string]struct{}\`: any object value is
 *   accepted and its keys are ignored.
 * - names of inline swagger objects are the Go type names (\`WeightDevice\`,
 *   \`Ulimit\`, \`BindOptions\`, ...); \`CreateBody\` is the create wrapper
 *   (container.Config plus HostConfig and NetworkingConfig).
 *
 * Every field also needs a decision in field-decisions.ts (a test enforces it).
 *
 * Shapes: 'string' | 'bool' | 'int' | 'num' | 'any' | 'strslice' |
 * 'struct:<Name>' | 'array:<shape>' | 'map:<shape>'. Map keys are data and are
 * never folded; struct keys are matched the way Go's encoding/json does.
 */
export type Shape = string
`

const FOOTER = `
/** The struct each body decodes into. */
export const ROOT_STRUCTS = {
${ROOTS.map(r => `  ${r.key}: '${r.struct}'`).join(',\n')}
} as const

/**
 * Keys of the legacy create wrapper that old daemons (Engine <= 26, API <=
 * 1.45) read at the TOP LEVEL of a create body: every HostConfig field (the
 * wrapper embedded \`*HostConfig\`) plus the deprecated \`Cpuset\`
 * (container-endpoints.md §4, moby commit 2954b05b removed them).
 */
export const LEGACY_TOP_LEVEL_EXTRA = ['Cpuset'] as const
`

function versionComment (versions: readonly string[], all: readonly string[]): string | undefined {
  if (versions.length === all.length) return undefined
  if (all.slice(0, versions.length).join() === versions.join()) return `only in ${versions.join(', ')}`
  if (all.slice(all.length - versions.length).join() === versions.join()) return `${versions[0]}+`
  return `in ${versions.join(', ')}`
}

function renderFields (name: string, s: UnionStruct, all: readonly string[], indent: string, spread: string[]): string[] {
  const lines = spread.map(e => `${indent}...${e}`)
  for (const [field, f] of s.fields) {
    const notes = [
      GO_TYPE_OVERRIDES[`${name}.${field}`] !== undefined ? 'Go type, see header' : undefined,
      versionComment(f.versions, all)
    ].filter(n => n !== undefined)
    lines.push(`${indent}${field}: '${f.shape}'${notes.length > 0 ? ` // ${notes.join('; ')}` : ''}`)
  }
  // Commas go before a line's comment.
  return lines.map((line, i) => {
    if (i === lines.length - 1) return line
    const hash = line.indexOf(' // ')
    return hash === -1 ? `${line},` : `${line.slice(0, hash)},${line.slice(hash)}`
  })
}

export function render (union: Map<string, UnionStruct>, labels: readonly string[]): string {
  const names = [...union.keys()].filter(n => !(n in EMBEDDED))
  const missing = names.filter(n => !STRUCT_ORDER.includes(n))
  const extra = STRUCT_ORDER.filter(n => !names.includes(n))
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`STRUCT_ORDER is out of date: add ${missing.join(', ') || 'nothing'}, remove ${extra.join(', ') || 'nothing'}`)
  }
  let out = HEADER
  for (const [def, constName] of Object.entries(EMBEDDED)) {
    const s = union.get(def)
    if (s === undefined) continue
    out += `\nconst ${constName} = {\n${renderFields(def, s, labels, '  ', []).join('\n')}\n} as const\n`
  }
  const bodies = STRUCT_ORDER.map((name, i) => {
    const s = union.get(name)!
    const spread = s.embeds.map(e => EMBEDDED[e as keyof typeof EMBEDDED])
    const lines = renderFields(name, s, labels, '    ', spread)
    const close = i === STRUCT_ORDER.length - 1 ? '' : ','
    return lines.length === 0 ? `  ${name}: {}${close}` : `  ${name}: {\n${lines.join('\n')}\n  }${close}`
  })
  out += `\nexport const STRUCTS: Readonly<Record<string, Readonly<Record<string, Shape>>>> = {\n${bodies.join('\n')}\n}\n`
  return out + FOOTER
}

export function generate (): string {
  const trees = VERSIONS.map(v => readVersion(v.label, loadSwagger(v.file)))
  return render(unionOf(trees), VERSIONS.map(v => v.label))
}

if (require.main === module) writeOrCheck(OUTPUT, generate(), 'npm run gen:schema')
