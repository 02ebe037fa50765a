import { STRUCTS, type Shape } from './docker-schema'
import { formatPath, JsonNumber, JsonObject, JsonParseError, parseStrictJson, type JsonValue, type ParseOptions } from './strict-json'

/**
 * Decode a request body into the object the Go daemon would see, so the policy
 * judges exactly what the daemon would apply, and re-serialising the result
 * gives the daemon nothing the policy did not read.
 *
 * - Duplicate keys anywhere are refused (strict-json.ts).
 * - Struct keys are matched like encoding/json: the exact name first, then a
 *   case-insensitive match under Unicode simple folding (`foldName` in Go's
 *   encoding/json/fold.go: each rune maps to the smallest rune of its
 *   unicode.SimpleFold orbit). Docker field names are ASCII, so the only
 *   non-ASCII runes that can match are U+212A KELVIN SIGN (orbit K k K) and
 *   U+017F LATIN SMALL LETTER LONG S (orbit S s ſ). A matched key is renamed
 *   to the schema's exact name (docker-py sends `CPURealtimePeriod` for
 *   `CpuRealtimePeriod`); two keys of one object that reach the same field are
 *   refused, since Go would apply both in turn.
 * - Keys that match no field are dropped and reported: the daemon ignores
 *   them, and we never forward what we did not read.
 * - Values must have the field's JSON type (Go refuses a string for a bool, a
 *   fraction for an integer); map keys are data and keep their case.
 */

export interface DroppedKey {
  /** Where the object holding the key sits, e.g. `HostConfig` ('' = top level). */
  readonly path: string
  /** The key exactly as the client sent it. */
  readonly key: string
  /** The Go struct that has no such field. */
  readonly struct: string
}

export type GoDecodeResult =
  | { ok: true, value: Record<string, unknown>, dropped: DroppedKey[] }
  | { ok: false, status: 400, rule: string, field?: string, message: string }

class DecodeError extends Error {
  constructor (readonly rule: string, message: string, readonly field?: string) {
    super(message)
  }
}

/** Fold a key the way Go's encoding/json compares names against ASCII field names. */
export function goFoldKey (key: string): string {
  let out = ''
  for (const ch of key) {
    if (ch === '\u212a') out += 'k'
    else if (ch === '\u017f') out += 's'
    else if (ch >= 'A' && ch <= 'Z') out += ch.toLowerCase()
    // Any other non-ASCII rune folds to a non-ASCII rune and can never match.
    else out += ch
  }
  return out
}

const foldedIndex = new Map<string, Map<string, string>>()

/** The exact field name of `struct` that `key` selects in Go, if any. */
export function goFieldName (struct: string, key: string): string | undefined {
  const fields = STRUCTS[struct]
  if (fields === undefined) throw new Error(`unknown struct ${struct}`)
  if (Object.hasOwn(fields, key)) return key
  let index = foldedIndex.get(struct)
  if (index === undefined) {
    index = new Map(Object.keys(fields).map(name => [goFoldKey(name), name]))
    foldedIndex.set(struct, index)
  }
  return index.get(goFoldKey(key))
}

/** Parse `raw` and decode it as the Go struct `root`. */
export function decodeGoBody (raw: string, root: string, options: ParseOptions = {}): GoDecodeResult {
  let parsed: JsonValue
  try {
    parsed = parseStrictJson(raw, options)
  } catch (err) {
    if (err instanceof JsonParseError) {
      return { ok: false, status: 400, rule: `json-${err.kind}`, message: `invalid JSON body: ${err.message}` }
    }
    throw err
  }
  if (!(parsed instanceof JsonObject)) {
    return { ok: false, status: 400, rule: 'body-shape', message: `request body must be a JSON object, got ${describe(parsed)}` }
  }
  const dropped: DroppedKey[] = []
  try {
    const value = decodeStruct(parsed, root, [], dropped)
    return { ok: true, value, dropped }
  } catch (err) {
    if (err instanceof DecodeError) {
      const denial = { ok: false as const, status: 400 as const, rule: err.rule, message: err.message }
      return err.field === undefined ? denial : { ...denial, field: err.field }
    }
    throw err
  }
}

type Path = Array<string | number>

function decodeStruct (obj: JsonObject, struct: string, path: Path, dropped: DroppedKey[]): Record<string, unknown> {
  const fields = STRUCTS[struct]
  if (fields === undefined) throw new Error(`unknown struct ${struct}`)
  const out: Record<string, unknown> = {}
  const sentAs = new Map<string, string>()
  for (const [key, value] of obj.entries) {
    const field = goFieldName(struct, key)
    if (field === undefined) {
      dropped.push({ path: formatPath(path), key, struct })
      continue
    }
    const earlier = sentAs.get(field)
    const fieldPath = formatPath([...path, field])
    if (earlier !== undefined) {
      throw new DecodeError('json-key-case',
        `keys ${JSON.stringify(earlier)} and ${JSON.stringify(key)} both set ${fieldPath} (the daemon matches keys case-insensitively); send it once`,
        fieldPath)
    }
    sentAs.set(field, key)
    out[field] = decodeValue(value, fields[field]!, [...path, field], dropped)
  }
  return out
}

function decodeValue (value: JsonValue, shape: Shape, path: Path, dropped: DroppedKey[]): unknown {
  // null is "not set" for every Go type (a nil slice, map or pointer, or no change).
  if (value === null) return null
  const colon = shape.indexOf(':')
  const kind = colon === -1 ? shape : shape.slice(0, colon)
  const inner = colon === -1 ? '' : shape.slice(colon + 1)
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') throw typeError(path, 'a string', value)
      return value
    case 'bool':
      if (typeof value !== 'boolean') throw typeError(path, 'a boolean', value)
      return value
    case 'int':
      if (!(value instanceof JsonNumber)) throw typeError(path, 'an integer', value)
      return integer(value, path)
    case 'num':
      if (!(value instanceof JsonNumber)) throw typeError(path, 'a number', value)
      return finite(value, path)
    case 'any':
      return plain(value, path)
    case 'strslice':
      // strslice.StrSlice accepts one string as a one-element list.
      if (typeof value === 'string') return [value]
      return decodeArray(value, 'string', path, dropped)
    case 'array':
      return decodeArray(value, inner, path, dropped)
    case 'map': {
      if (!(value instanceof JsonObject)) throw typeError(path, 'an object', value)
      const out: Record<string, unknown> = {}
      for (const [key, v] of value.entries) setOwn(out, key, decodeValue(v, inner, [...path, key], dropped))
      return out
    }
    case 'struct':
      if (!(value instanceof JsonObject)) throw typeError(path, 'an object', value)
      return decodeStruct(value, inner, path, dropped)
    default:
      throw new Error(`bad shape ${shape}`)
  }
}

function decodeArray (value: JsonValue, shape: Shape, path: Path, dropped: DroppedKey[]): unknown[] {
  if (!Array.isArray(value)) throw typeError(path, 'an array', value)
  return value.map((item, i) => {
    // Go would store a zero value; nobody means that, and the rules below
    // would have to treat it specially, so refuse it.
    if (item === null) throw new DecodeError('json-type', `${formatPath([...path, i])}: null is not allowed in a list`, formatPath([...path, i]))
    return decodeValue(item, shape, [...path, i], dropped)
  })
}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/

function integer (n: JsonNumber, path: Path): number {
  const where = formatPath(path)
  if (!INTEGER.test(n.text)) throw new DecodeError('json-type', `${where}: expected an integer, got ${n.text}`, where)
  const v = Number(n.text)
  // Beyond 2^53 a JS number no longer round-trips, so what we forward would
  // differ from what we judged.
  if (!Number.isSafeInteger(v)) throw new DecodeError('json-type', `${where}: integer ${n.text} is too large for the gateway to forward exactly`, where)
  return v
}

function finite (n: JsonNumber, path: Path): number {
  const v = Number(n.text)
  const where = formatPath(path)
  if (!Number.isFinite(v)) throw new DecodeError('json-type', `${where}: number ${n.text} is out of range`, where)
  return v
}

function plain (value: JsonValue, path: Path): unknown {
  if (value instanceof JsonNumber) return finite(value, path)
  if (Array.isArray(value)) return value.map((v, i) => plain(v, [...path, i]))
  if (value instanceof JsonObject) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of value.entries) setOwn(out, k, plain(v, [...path, k]))
    return out
  }
  return value
}

/** Define an own property even for keys like `__proto__`, which `o[k] = v` would not. */
export function setOwn (obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
}

function typeError (path: Path, expected: string, got: JsonValue): DecodeError {
  const where = formatPath(path)
  return new DecodeError('json-type', `${where}: expected ${expected}, got ${describe(got)}`, where)
}

function describe (v: JsonValue): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean') return 'a boolean'
  if (typeof v === 'string') return 'a string'
  if (v instanceof JsonNumber) return 'a number'
  if (Array.isArray(v)) return 'an array'
  return 'an object'
}

/**
 * Go's strings.ToUpper, which the daemon applies to capability and ulimit
 * names: simple (one rune to one rune) mapping, so 'ſ' becomes 'S' and 'ı'
 * becomes 'I', but 'ß' or a ligature stays as it is (JS would expand them).
 */
export function goToUpper (s: string): string {
  let out = ''
  for (const ch of s) {
    const up = ch.toUpperCase()
    out += [...up].length === 1 ? up : ch
  }
  return out
}
