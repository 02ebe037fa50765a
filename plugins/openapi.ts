import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import { documentedRoute } from '../src/docker/route-schemas'

/**
 * `GET /openapi.json`: an OpenAPI 3.1 document of the gateway's own API,
 * built by @fastify/swagger from the routes' own schemas (every allow-list
 * row under its prefixes, with its scope; the gateway's routes). Every
 * operation answers errors in Docker's shape. Served without credentials,
 * like /healthz: it describes what anyone can read in the README.
 * (3.1 for the mutualTLS security scheme.)
 */

const DOCKER_ERROR = {
  type: 'object',
  required: ['message'],
  properties: { message: { type: 'string', description: 'what went wrong, in the daemon\'s wording where it has one' } }
}

const errorResponse = (description: string): Record<string, unknown> => ({
  description,
  content: { 'application/json': { schema: DOCKER_ERROR } }
})

async function openapi (fastify: FastifyInstance): Promise<void> {
  await fastify.register(swagger, {
    // The allow-list's own HEAD rows (/_ping); fastify adds no HEAD routes of its own here (app.ts).
    exposeHeadRoutes: true,
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'docker-gateway',
        // The document's own version: the API it describes changes with the allow-list, not with releases.
        version: '1',
        description: 'An allow-listed, authenticated mirror of the Docker Engine API container endpoints (same paths, JSON and errors as dockerd), and the gateway\'s own routes. Scopes per operation are listed under `security`; docs/authentication.md explains tokens.'
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT whose `scope` claim holds the scopes listed per operation' },
          // OpenAPI 3.1's mutualTLS scheme; the openapi-types package knows only 3.0's.
          mutualTLS: { type: 'mutualTLS', description: 'A client certificate mapped to a principal and its scopes (docs/authentication.md)' } as never,
          metricsToken: { type: 'http', scheme: 'bearer', description: 'The scrape token `metrics.token`, when configured' }
        }
      },
      tags: [
        { name: 'docker', description: 'Docker Engine API endpoints, mirrored under /, /v{version}, /hosts/{host} and /hosts/{host}/v{version}' },
        { name: 'gateway', description: 'The gateway\'s own routes' }
      ]
    },
    // Every operation may answer a Docker-shaped error (plugins/errors.ts).
    transform: ({ schema, url, route }) => {
      // An image row's wildcard documented as the path Docker clients send (route-schemas.ts).
      const row = route.config?.row
      if (row?.target === 'image') ({ schema, url } = documentedRoute(row, url, schema as never))
      const s = { ...(schema as Record<string, unknown>) }
      const response = { ...(s.response as Record<string, unknown> | undefined) }
      response['4XX'] ??= errorResponse('refused by the gateway or the daemon')
      response['5XX'] ??= errorResponse('the daemon failed or could not be reached')
      s.response = response
      return { schema: s as never, url }
    }
  })

  fastify.get('/openapi.json', { schema: { hide: true } }, async (request) => {
    request.gw.route = 'GET /openapi.json'
    return fastify.swagger()
  })
}

export default fp(openapi, { name: 'docker-gateway-openapi', fastify: '5.x' })
