import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { routes } from '../../../src/docker/routes'

/**
 * Issue 10, "What to build" 1: every query parameter of every allow-listed
 * route is an explicit decision. For each route, each parameter the Engine
 * API documents in any supported version (the pinned swagger files in
 * scripts/engine-api) must be forwarded with a checked kind (`query`) or
 * listed as deliberately not forwarded with a reason (`dropped`). A new
 * version that documents a new parameter fails this test until someone
 * decides.
 */
const SWAGGER_DIR = path.join(__dirname, '..', '..', '..', 'scripts', 'engine-api')
const VERSIONS = ['v1.41.yaml', 'v1.43.yaml', 'v1.55.yaml', 'swagger-HEAD-v1.56.yaml']

interface Parameter { name: string, in: string }
type Operation = { parameters?: Parameter[] }
type Spec = { paths: Record<string, Record<string, Operation>> }

const specs = VERSIONS.map(file => ({ file, spec: parse(fs.readFileSync(path.join(SWAGGER_DIR, file), 'utf8')) as Spec }))

/** The swagger path of a route: `:id` and `:exec` are both `{id}` there, an image's `:name` is `{name}`. */
const swaggerPath = (segments: readonly string[]): string => '/' + segments.map(s => s === ':name' ? '{name}' : s.startsWith(':') ? '{id}' : s).join('/')

t.test('the swagger files are the pinned ones', async t => {
  for (const { file, spec } of specs) t.ok(Object.keys(spec.paths).length > 50, `${file} has its paths`)
})

for (const route of routes) {
  t.test(`${route.template}: every documented query parameter has a decision`, async t => {
    const documented = new Set<string>()
    for (const { file, spec } of specs) {
      const op = spec.paths[swaggerPath(route.segments)]?.[route.method.toLowerCase()]
      t.ok(op, `${file} documents ${route.template}`)
      for (const p of op?.parameters ?? []) {
        if (p.in !== 'query') continue
        documented.add(p.name)
        const forwarded = Object.hasOwn(route.query, p.name)
        const dropped = Object.hasOwn(route.dropped, p.name)
        t.ok(forwarded !== dropped, `${file}: "${p.name}" is ${forwarded && dropped ? 'both forwarded and dropped' : 'neither forwarded nor dropped'}`)
      }
    }
    // And nothing is forwarded or dropped that no version documents (a typo would otherwise pass silently).
    for (const name of [...Object.keys(route.query), ...Object.keys(route.dropped)]) {
      t.ok(documented.has(name), `"${name}" is documented by some supported version`)
    }
    for (const [name, reason] of Object.entries(route.dropped)) {
      t.ok(reason.trim().length > 10, `"${name}" is dropped with a reason`)
    }
  })
}
