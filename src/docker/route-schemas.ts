import { Type, type TSchema } from '@sinclair/typebox'
import type { ParamKind, RouteDef } from './routes'
import { CONTAINER_REF, EXEC_ID, HOST_NAME, ALL_HOSTS } from './names'

/**
 * Each allow-list row as fastify routes: the same path under the four
 * prefixes a Docker client or an operator uses, with TypeBox schemas for the
 * path parameters and the query derived from the row. The schemas are what
 * fastify validates and what the OpenAPI document (GET /openapi.json) shows;
 * the kinds' own checks (query.ts) then decide each value.
 */

/** Unprefixed, API-versioned, host-routed, both (CONTRIBUTING: "Adding an allowed endpoint"). */
export const ROUTE_PREFIXES = ['', '/v:version', '/hosts/:host', '/hosts/:host/v:version'] as const

/**
 * The fastify URL of a row under a prefix: `/containers/:id/json`.
 *
 * An image name holds slashes and colons (`127.0.0.1:5000/team/app:1`), and
 * Docker clients send it unescaped (`GET /images/127.0.0.1:5000/team/app:1/json`),
 * as dockerd's router reads it (`/images/{name:.*}/json`). find-my-way's
 * parameters stop at a slash, so an image row is a wildcard route
 * (`/images/*`) whose value must be `<name>/<rest of the row>`
 * (IMAGE_PATH below); the canonical-path guard has already refused percent
 * escapes, empty and dot segments, so the value is plain text. Static rows
 * (`/images/json`, `/images/create`) win over the wildcard, as in dockerd,
 * where they are registered first.
 */
export function routeUrl (row: RouteDef, prefix: string): string {
  const name = row.segments.indexOf(':name')
  if (name !== -1) return prefix + '/' + [...row.segments.slice(0, name), '*'].join('/')
  return prefix + '/' + row.segments.join('/')
}

/**
 * An image reference or ID as a path parameter: the reference grammar's
 * characters, and every `/`-separated part starts with a letter or digit, as
 * the grammar requires, so no `.`, `..` or empty part can be built from one,
 * whatever reached the router (a second line behind canonical-path.ts).
 */
export const IMAGE_NAME = '[A-Za-z0-9][A-Za-z0-9._:@-]{0,255}(?:/[A-Za-z0-9][A-Za-z0-9._:@-]{0,255}){0,7}'

/** The wildcard's pattern for an image row: the name, then the row's fixed segments after it. */
export function imagePathPattern (row: RouteDef): string {
  const rest = row.segments.slice(row.segments.indexOf(':name') + 1)
  return `^${IMAGE_NAME}${rest.map(s => '/' + s).join('')}$`
}

/** The image name out of a validated wildcard value (`<name>/json` -> `<name>`). */
export function imageName (row: RouteDef, wildcard: string): string {
  const rest = row.segments.slice(row.segments.indexOf(':name') + 1)
  const tail = rest.map(s => '/' + s).join('').length
  return wildcard.slice(0, wildcard.length - tail)
}

/** What each kind of query parameter accepts, as the OpenAPI document says it. */
const KIND_DOCS: Readonly<Record<ParamKind, string>> = {
  bool: 'boolean as dockerd reads it (0, false, no, none and empty are false); forwarded as 1 or 0',
  off: 'only false is accepted',
  int: 'integer, at most 9 digits',
  seconds: 'seconds, -1 to 86400',
  ttySize: 'terminal rows or columns, 0 to 65535',
  filters: 'JSON object of documented filter names to lists of strings',
  eventFilters: 'JSON object of event filter names (config, container, daemon, event, image, label, network, node, plugin, scope, secret, service, type, volume) to lists of strings; without admin, only type=container, and your own containers\' events',
  pruneFilters: 'JSON object with label, label! and until; without admin, only your own stopped containers are pruned',
  signal: 'signal name or number',
  containerName: 'container name ([a-zA-Z0-9][a-zA-Z0-9_.-]+, not 12 to 64 hex digits)',
  psArgs: 'ps options: -ef, aux, or -o with fixed fields (docs/policy.md)',
  tail: '"all" or a number of lines',
  timestamp: 'unix timestamp, RFC 3339 date or Go duration',
  unixTime: 'unix seconds with an optional fraction (up to 10 and 9 digits), since not after until',
  condition: 'not-running, next-exit or removed',
  platform: 'os[/arch[/variant]]',
  detachKeys: 'key sequence such as ctrl-p,ctrl-q',
  imageFilters: 'JSON object of image filter names (before, dangling, label, reference, since, until) to lists of strings',
  imageRef: 'image name, tag or digest; the whole reference must match policy.imageAllowList',
  ociPlatform: 'JSON OCI platform, e.g. {"os":"linux","architecture":"amd64"}',
  refused: 'refused (403): not available through this gateway',
  containerPath: 'path in the container, absolute or relative to its /; at most 4096 bytes, no control characters'
}

/** Path parameter patterns; a value outside them never reaches a hook. */
export const PARAM_PATTERNS = {
  host: `^(${HOST_NAME.source.slice(1, -1)}|${ALL_HOSTS})$`,
  id: CONTAINER_REF.source,
  exec: EXEC_ID.source
} as const

export interface RouteSchema {
  params?: TSchema
  querystring?: TSchema
}

export function routeSchema (row: RouteDef, prefix: string): RouteSchema {
  const params: Record<string, TSchema> = {}
  if (prefix.includes(':host')) params.host = Type.String({ pattern: PARAM_PATTERNS.host, description: 'a configured Docker host' })
  if (prefix.includes(':version')) params.version = Type.String({ description: 'Engine API version after the v, e.g. 1.41' })
  if (row.target === 'container') params.id = Type.String({ pattern: PARAM_PATTERNS.id, description: 'container id, id prefix or name (your own)' })
  if (row.target === 'exec') params.exec = Type.String({ pattern: PARAM_PATTERNS.exec, description: 'exec instance id' })
  if (row.target === 'image') params['*'] = Type.String({ pattern: imagePathPattern(row), description: 'image name, reference or ID (slashes unescaped), then the rest of the path' })
  const schema: RouteSchema = {}
  if (Object.keys(params).length > 0) schema.params = Type.Object(params)
  const query: Record<string, TSchema> = {}
  for (const [name, kind] of Object.entries(row.query)) {
    const value = Type.String({ description: KIND_DOCS[kind] })
    query[name] = row.required.includes(name) ? value : Type.Optional(value)
  }
  // Parameters no rule names are dropped, as dockerd ignores what it does not read.
  if (Object.keys(query).length > 0) schema.querystring = Type.Object(query, { additionalProperties: true })
  return schema
}

/**
 * The OpenAPI form of an image row: `/images/{name}/json` with `name` as a
 * path parameter, in place of the router's wildcard `/images/*` (the
 * document describes what clients send, not how find-my-way matches it).
 */
export function documentedRoute (row: RouteDef, url: string, schema: RouteSchema): { url: string, schema: RouteSchema } {
  const rest = row.segments.slice(row.segments.indexOf(':name') + 1)
  const params = { ...((schema.params?.properties ?? {}) as Record<string, TSchema>) }
  delete params['*']
  params.name = Type.String({ pattern: `^${IMAGE_NAME}$`, description: 'image name, reference (slashes and colons unescaped: 127.0.0.1:5000/team/app:1) or ID' })
  return { url: url.replace(/\*$/, [':name', ...rest].join('/')), schema: { ...schema, params: Type.Object(params) } }
}
