/**
 * Writes docs/configuration.md from the configuration schema
 * (src/config/schema.ts) and the environment variable map (ENV_KEYS in
 * src/config/load.ts), so the reference cannot drift from what the loader
 * accepts. A key's meaning is the doc comment above it in schema.ts (read
 * with the TypeScript parser), so the comment a reader of the code sees and
 * the reference say the same thing. `--check` exits 1 when the committed file differs
 * (test/table/core/config-docs.test.ts runs it).
 *
 *   npx tsx scripts/gen-config-docs.ts [--check]
 */
import fs from 'node:fs'
import path from 'node:path'
import { ConfigSchema } from '../src/config/schema'
import { ENV_KEYS } from '../src/config/load'
import ts from 'typescript'
import { writeOrCheck } from './generated-file'

interface SchemaNode {
  type?: string
  description?: string
  default?: unknown
  properties?: Record<string, SchemaNode>
  patternProperties?: Record<string, SchemaNode>
  anyOf?: SchemaNode[]
  const?: unknown
  enum?: unknown[]
  minimum?: number
  maximum?: number
  pattern?: string
  required?: string[]
}

export const OUTPUT = path.join(__dirname, '..', 'docs', 'configuration.md')

/** Sections that have a page of their own, documented there key by key. */
const ELSEWHERE: Record<string, string> = {
  policy: '[policy.md](policy.md) and [policy-fields.md](policy-fields.md)',
  hosts: '[hosts.md](hosts.md)',
  clientCertificates: '[authentication.md](authentication.md#mutual-tls)'
}

const SCHEMA_SOURCE = path.join(__dirname, '..', 'src', 'config', 'schema.ts')

/** Doc comments of the object-literal keys in schema.ts, by dotted path of nesting. */
function docComments (): Map<string, string> {
  const file = ts.createSourceFile(SCHEMA_SOURCE, fs.readFileSync(SCHEMA_SOURCE, 'utf8'), ts.ScriptTarget.ES2022, true)
  const found = new Map<string, string>()
  const visit = (node: ts.Node, prefix: string): void => {
    if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))) {
      const key = prefix === '' ? node.name.text : `${prefix}.${node.name.text}`
      const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc)
      const text = docs.map(d => ts.getTextOfJSDocComment(d.comment) ?? '').join(' ').trim()
      if (text !== '') found.set(key, text)
      ts.forEachChild(node.initializer, child => { visit(child, key) })
      return
    }
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === 'ConfigSchema' && node.initializer !== undefined) {
      ts.forEachChild(node.initializer, child => { visit(child, '') })
      return
    }
    ts.forEachChild(node, child => { visit(child, prefix) })
  }
  visit(file, '#')
  return found
}

function envFor (key: string): string {
  const names = Object.entries(ENV_KEYS).filter(([, k]) => k === key).map(([n]) => `\`${n}\``)
  return names.length > 0 ? names.join(', ') : '–'
}

function typeOf (node: SchemaNode): string {
  if (node.anyOf !== undefined) return node.anyOf.map(n => n.const !== undefined ? `\`${String(n.const)}\`` : typeOf(n)).join(' \\| ')
  const bounds: string[] = []
  if (node.minimum !== undefined) bounds.push(`≥ ${node.minimum}`)
  if (node.maximum !== undefined) bounds.push(`≤ ${node.maximum}`)
  const t = node.type ?? 'any'
  return bounds.length > 0 ? `${t} (${bounds.join(', ')})` : t
}

function defaultOf (node: SchemaNode): string {
  if (node.default === undefined) return '–'
  if (typeof node.default === 'object') return Object.keys(node.default as object).length === 0 ? '–' : `\`${JSON.stringify(node.default)}\``
  return `\`${String(node.default)}\``
}

function rows (node: SchemaNode, prefix: string, out: string[], docs: Map<string, string>, missing: string[]): void {
  const meaning = (key: string, child: SchemaNode): string => {
    const text = docs.get(key) ?? child.description
    if (text === undefined) { missing.push(key); return '' }
    return clean(text)
  }
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const key = prefix === '' ? name : `${prefix}.${name}`
    const elsewhere = ELSEWHERE[key]
    if (elsewhere !== undefined) {
      out.push(`| \`${key}\` | ${envFor(key)} | object | – | ${meaning(key, child)} See ${elsewhere}. |`)
      continue
    }
    if (child.type === 'object' && child.properties !== undefined) {
      rows(child, key, out, docs, missing)
      continue
    }
    out.push(`| \`${key}\` | ${envFor(key)} | ${typeOf(child)} | ${defaultOf(child)} | ${meaning(key, child)} |`)
  }
}

function clean (text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim()
}

export function render (): string {
  const out: string[] = []
  const missing: string[] = []
  rows(ConfigSchema as unknown as SchemaNode, '', out, docComments(), missing)
  if (missing.length > 0) throw new Error(`configuration keys without a doc comment in src/config/schema.ts: ${missing.join(', ')}`)
  return [
    '# Configuration',
    '',
    '<!-- GENERATED by scripts/gen-config-docs.ts from src/config/schema.ts and src/config/load.ts; do not edit by hand. -->',
    '',
    'Configuration comes from the environment and, optionally, a YAML or JSON file',
    'named by `GATEWAY_CONFIG` whose keys are the ones below. Environment variables',
    'win over the file. Everything is validated at start, and unknown keys are an',
    'error, so a typo never silently leaves a default in force; a bad value stops the',
    'gateway with a message naming the key, e.g.',
    '`invalid configuration: bodyLimit (from GATEWAY_BODY_LIMIT): Expected integer`.',
    '',
    '| Key | Environment | Type | Default | Meaning |',
    '|---|---|---|---|---|',
    '| – | `GATEWAY_CONFIG` | path | – | the configuration file (YAML or JSON) |',
    ...out,
    ''
  ].join('\n')
}

if (require.main === module) writeOrCheck(OUTPUT, render(), 'npm run gen:docs')
