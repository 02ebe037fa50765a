import { isObj, type Obj } from './body'
import { STRUCTS } from './docker-schema'
import { FIELD_DECISIONS, type FieldDecision } from './field-decisions'
import { formatPath } from './strict-json'
import type { Violation } from './types'

/**
 * Walk a decoded body (go-json.ts has matched every key to its schema field
 * and checked its JSON type) against the decision table: a `deny` field with
 * a non-zero value, and any set field that has no decision at all, is a
 * violation. Fail closed: a field the table does not know is refused, never
 * forwarded. `allow`/`bounded`/`default` fields pass here (the named rules
 * judge the bounded ones); struct, list and map values are walked into.
 */
export function checkFieldDecisions (
  body: Obj,
  root: string,
  table: Readonly<Record<string, Readonly<Record<string, FieldDecision>>>> = FIELD_DECISIONS
): Violation[] {
  const out: Violation[] = []
  walkStruct(body, root, [], table, out)
  return out
}

/** Go's zero values, which the CLI and SDKs send for every field they do not set. */
export function isZeroValue (v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === false || v === 0) return true
  if (Array.isArray(v)) return v.length === 0
  return isObj(v) && Object.keys(v).length === 0
}

type Path = Array<string | number>
type DecisionTable = Readonly<Record<string, Readonly<Record<string, FieldDecision>>>>

function walkStruct (obj: Obj, struct: string, path: Path, table: DecisionTable, out: Violation[]): void {
  const fields = STRUCTS[struct]
  if (fields === undefined) throw new Error(`unknown struct ${struct}`)
  const decisions = table[struct]
  for (const [key, value] of Object.entries(obj)) {
    if (!Object.hasOwn(fields, key)) continue // not a schema field: the decoder dropped it already
    const field = formatPath([...path, key])
    const decision = decisions !== undefined && Object.hasOwn(decisions, key) ? decisions[key] : undefined
    if (decision === undefined) {
      if (value !== null && value !== undefined) {
        out.push({ rule: 'no-rule', field, message: `${field} has no policy decision yet, so it is refused (the gateway forwards only fields it has decided on)` })
      }
      continue
    }
    if (decision.decision === 'deny') {
      if (!isZeroValue(value)) out.push({ rule: 'field-denied', field, message: `${field}=${shown(value)} is not allowed (${decision.why})` })
      continue
    }
    walkValue(value, fields[key]!, [...path, key], table, out)
  }
}

function walkValue (value: unknown, shape: string, path: Path, table: DecisionTable, out: Violation[]): void {
  if (value === null || value === undefined) return
  const colon = shape.indexOf(':')
  if (colon === -1) return // a scalar or strslice: nothing below it
  const kind = shape.slice(0, colon)
  const inner = shape.slice(colon + 1)
  if (kind === 'struct' && isObj(value)) walkStruct(value, inner, path, table, out)
  else if (kind === 'array' && Array.isArray(value)) value.forEach((item, i) => { walkValue(item, inner, [...path, i], table, out) })
  else if (kind === 'map' && isObj(value)) for (const [k, v] of Object.entries(value)) walkValue(v, inner, [...path, k], table, out)
}

function shown (value: unknown): string {
  const text = JSON.stringify(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
