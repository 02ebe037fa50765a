import t from 'tap'
import { buildApp } from '../../../src/app'
import { loadConfig } from '../../../src/config/load'
import { routes } from '../../../src/docker/routes'
import { ROUTE_PREFIXES, routeUrl } from '../../../src/docker/route-schemas'
import { TEST_SECRET } from '../../helpers/gateway'

/**
 * GET /openapi.json on the real app: a valid OpenAPI 3.1 document, served
 * without credentials, with every allow-list row under every prefix and its
 * scope, the gateway's own routes, both security schemes and Docker's error
 * shape on every operation.
 */

/** `/containers/:id/json` as OpenAPI writes it: `/containers/{id}/json`. */
function openapiPath (url: string): string {
  return url.replace(/:([a-z]+)/g, '{$1}')
}

t.test('GET /openapi.json', async t => {
  const config = loadConfig({ GATEWAY_TLS: 'off', GATEWAY_LOG_LEVEL: 'silent', GATEWAY_UPSTREAM: 'tcp://127.0.0.1:1', GATEWAY_METRICS: 'true' })
  const app = await buildApp({ config, jwtSecret: TEST_SECRET })
  t.teardown(async () => { await app.close() })
  const res = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(res.statusCode, 200, 'served without credentials')
  const doc = res.json()

  // An ES module: loaded with import() from this CommonJS test.
  const { Validator } = await import('@seriousme/openapi-schema-validator')
  const result = await new Validator().validate(doc)
  t.same(result.errors ?? [], [], 'the document is valid OpenAPI')
  t.equal(result.valid, true)
  t.equal(doc.openapi, '3.1.0')

  t.same(Object.keys(doc.components.securitySchemes).sort(), ['bearer', 'metricsToken', 'mutualTLS'])
  t.equal(doc.components.securitySchemes.mutualTLS.type, 'mutualTLS')

  let operations = 0
  for (const row of routes) {
    for (const prefix of ROUTE_PREFIXES) {
      // The documented path: an image row's router wildcard is shown as /images/{name}/json.
      const path = openapiPath(prefix + '/' + row.segments.join('/'))
      if (row.target === 'image') t.not(path, openapiPath(routeUrl(row, prefix)), `${path}: routed as a wildcard`)
      const op = doc.paths[path]?.[row.method.toLowerCase()]
      t.ok(op, `${row.method} ${path} is in the document`)
      if (op === undefined) continue
      operations++
      t.same(op.security, [{ bearer: [row.scope] }, { mutualTLS: [] }], `${row.method} ${path}: scope ${row.scope}`)
      t.same(op.responses['4XX'].content['application/json'].schema.required, ['message'], `${row.method} ${path}: Docker's error shape`)
      for (const name of Object.keys(row.query)) {
        t.ok(op.parameters.some((p: { in: string, name: string }) => p.in === 'query' && p.name === name), `${row.method} ${path}: query ${name}`)
      }
    }
  }
  t.equal(operations, routes.length * ROUTE_PREFIXES.length)

  for (const [method, path] of [['get', '/hosts'], ['get', '/hosts/_all/containers/json'], ['post', '/policy/check'], ['get', '/healthz'], ['get', '/readyz'], ['get', '/metrics']]) {
    t.ok(doc.paths[path as string]?.[method as string], `the gateway's own ${method?.toUpperCase()} ${path}`)
  }
})
