import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from '@sinclair/typebox'
import type { RouteDef } from './routes'
import { validateQuery, type QueryOk } from './query'
import { NoSuchExec, PageNotFound, paramRefused, QueryInvalid } from '../errors'

/**
 * How a mirrored route's schemas are enforced: a route-level validator
 * compiler in place of Ajv. The path parameters are checked against the
 * `pattern`s of the route's TypeBox schema (route-schemas.ts), and the query
 * by the row's own decisions (query.ts), whose result — every parameter
 * forwarded normalised, `filters` parsed — replaces the parsed query on the
 * request. One pass, answered in the daemon's wording; Ajv's generic
 * validation of the same values cost 5 % of the gateway's CPU per request
 * (docs/benchmarks.md).
 */

type Validator = (data: unknown) => boolean | { error?: Error, value?: unknown }

/** A refusal for a path parameter outside its pattern, as the daemon words it. */
function paramRefusal (name: string, value: string): Error {
  if (name === 'exec') return new NoSuchExec(value)
  // The image routes' wildcard (route-schemas.ts): a path that is not `<image>/json` is one the gateway does not have.
  if (name === '*') return new PageNotFound()
  if (name === 'id') return new QueryInvalid(`invalid container name or ID "${value}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`)
  return new QueryInvalid(`invalid ${name} "${value}"`)
}

/** Checks every property of a params schema that has a `pattern`. */
export function paramsValidator (schema: TSchema): Validator {
  const properties = (schema.properties ?? {}) as Record<string, { pattern?: string }>
  const checks: Array<[string, RegExp]> = []
  for (const [name, property] of Object.entries(properties)) {
    if (property.pattern !== undefined) checks.push([name, new RegExp(property.pattern)])
  }
  return (data) => {
    const params = data as Record<string, string>
    for (const [name, pattern] of checks) {
      const value = params[name] ?? ''
      if (!pattern.test(value)) return { error: paramRefusal(name, value) }
    }
    return true
  }
}

/** The row's query decisions; the decided query (QueryOk) replaces the parsed one. */
export function queryValidator (row: RouteDef): Validator {
  return (data) => {
    const decided = validateQuery(row, (data ?? {}) as Record<string, string>)
    if (decided.ok) return { value: decided }
    return { error: decided.status === 403 ? paramRefused(decided.param ?? '', decided.message) : new QueryInvalid(decided.message) }
  }
}

/** The validator compiler of one mirrored route (fastify route option). */
export function routeValidatorCompiler<S> (row: RouteDef): FastifySchemaCompiler<S> {
  return ({ schema, httpPart }) => {
    if (httpPart === 'params') return paramsValidator(schema as TSchema)
    if (httpPart === 'querystring') return queryValidator(row)
    throw new Error(`${row.template}: no validator for ${httpPart ?? 'this part'}`)
  }
}

/** The decided query of a mirrored request, after validation. */
export function decidedQuery (query: unknown): QueryOk {
  return (query as QueryOk | undefined)?.ok === true ? query as QueryOk : { ok: true, params: new Map() }
}
