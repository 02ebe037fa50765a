/**
 * A strict RFC 8259 JSON parser that keeps what JSON.parse throws away.
 *
 * JSON.parse keeps only the LAST of two equal keys, while Go's encoding/json
 * assigns both in turn and MERGES a repeated object into the first one
 * (`{"HostConfig":{"Privileged":true},"HostConfig":{"Memory":1}}` gives the
 * daemon both fields, container-endpoints.md §4). So a duplicate key anywhere
 * is an error here. Numbers are kept as their literal text, because Go refuses
 * `1e3` or `1.0` for an integer field and the caller must be able to tell.
 * Nesting is limited so a hostile body cannot exhaust the stack.
 */

/** A number exactly as written in the body. */
export class JsonNumber {
  constructor (readonly text: string) {}
}

/** An object with its members in body order; keys are unique. */
export class JsonObject {
  constructor (readonly entries: ReadonlyArray<readonly [string, JsonValue]>) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject

export type JsonErrorKind = 'syntax' | 'duplicate-key' | 'depth'

export class JsonParseError extends Error {
  constructor (readonly kind: JsonErrorKind, message: string, readonly position: number) {
    super(message)
  }
}

export interface ParseOptions {
  /** Deepest allowed nesting of objects and arrays (default 64). */
  maxDepth?: number
}

export const DEFAULT_MAX_DEPTH = 64

/** Parse `text` as exactly one JSON value surrounded by optional whitespace. */
export function parseStrictJson (text: string, options: ParseOptions = {}): JsonValue {
  const parser = new Parser(text, options.maxDepth ?? DEFAULT_MAX_DEPTH)
  parser.skipWhitespace()
  if (parser.pos >= text.length) throw new JsonParseError('syntax', 'request body is empty, expected a JSON value', 0)
  const value = parser.value(0)
  parser.skipWhitespace()
  // Engine >= 23 rejects content after the value, 20.10 silently ignores it;
  // refusing it keeps both daemons and the policy looking at one value.
  if (parser.pos < text.length) parser.fail(`unexpected content after the JSON value at position ${parser.pos}`)
  return value
}

/**
 * Replace lone UTF-16 surrogates with U+FFFD, as Go does for `\ud800` escapes.
 * Without this, two keys that differ only in lone surrogates would be distinct
 * here but equal for the daemon, which reads our re-serialisation.
 */
export function toWellFormed (s: string): string {
  if (!/[\ud800-\udfff]/.test(s)) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!
        i++
        continue
      }
      out += '\ufffd'
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\ufffd'
    } else {
      out += s[i]!
    }
  }
  return out
}

const HEX = /^[0-9a-fA-F]{4}$/
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y

class Parser {
  pos = 0
  /** Keys of the enclosing objects and array indexes, for error messages. */
  private readonly path: Array<string | number> = []

  constructor (private readonly text: string, private readonly maxDepth: number) {}

  fail (message: string, kind: JsonErrorKind = 'syntax', position = this.pos): never {
    throw new JsonParseError(kind, message, position)
  }

  skipWhitespace (): void {
    // RFC 8259 whitespace only: a BOM or a non-breaking space is an error, as in Go.
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos)
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return
      this.pos++
    }
  }

  value (depth: number): JsonValue {
    const c = this.text[this.pos]
    switch (c) {
      case '{': return this.object(depth + 1)
      case '[': return this.array(depth + 1)
      case '"': return this.string()
      case 't': return this.literal('true', true)
      case 'f': return this.literal('false', false)
      case 'n': return this.literal('null', null)
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number()
        if (c === undefined) this.fail(`unexpected end of JSON input at position ${this.pos}`)
        this.fail(`invalid character ${describeChar(c)} looking for the beginning of a value at position ${this.pos}`)
    }
  }

  private enter (depth: number): void {
    if (depth > this.maxDepth) {
      this.fail(`JSON nesting deeper than ${this.maxDepth} levels at position ${this.pos}`, 'depth')
    }
  }

  private object (depth: number): JsonObject {
    this.enter(depth)
    this.pos++ // '{'
    const entries: Array<readonly [string, JsonValue]> = []
    const seen = new Set<string>()
    this.skipWhitespace()
    if (this.text[this.pos] === '}') {
      this.pos++
      return new JsonObject(entries)
    }
    for (;;) {
      this.skipWhitespace()
      const keyStart = this.pos
      if (this.text[this.pos] !== '"') this.expected('a string key')
      const key = this.string()
      if (seen.has(key)) {
        const where = this.path.length > 0 ? ` in ${formatPath(this.path)}` : ''
        this.fail(`duplicate key ${JSON.stringify(key)}${where} at position ${keyStart} (Go would merge or overwrite it; send each key once)`, 'duplicate-key', keyStart)
      }
      seen.add(key)
      this.skipWhitespace()
      if (this.text[this.pos] !== ':') this.expected("':' after an object key")
      this.pos++
      this.skipWhitespace()
      this.path.push(key)
      entries.push([key, this.value(depth)])
      this.path.pop()
      this.skipWhitespace()
      const c = this.text[this.pos]
      if (c === ',') {
        this.pos++
        continue
      }
      if (c === '}') {
        this.pos++
        return new JsonObject(entries)
      }
      this.expected("',' or '}' after an object member")
    }
  }

  private array (depth: number): JsonValue[] {
    this.enter(depth)
    this.pos++ // '['
    const items: JsonValue[] = []
    this.skipWhitespace()
    if (this.text[this.pos] === ']') {
      this.pos++
      return items
    }
    for (;;) {
      this.skipWhitespace()
      this.path.push(items.length)
      items.push(this.value(depth))
      this.path.pop()
      this.skipWhitespace()
      const c = this.text[this.pos]
      if (c === ',') {
        this.pos++
        continue
      }
      if (c === ']') {
        this.pos++
        return items
      }
      this.expected("',' or ']' after an array element")
    }
  }

  private string (): string {
    const start = this.pos
    this.pos++ // '"'
    let out = ''
    let chunk = this.pos
    for (;;) {
      if (this.pos >= this.text.length) this.fail(`unterminated string starting at position ${start}`)
      const c = this.text.charCodeAt(this.pos)
      if (c === 0x22) { // '"'
        out += this.text.slice(chunk, this.pos)
        this.pos++
        return toWellFormed(out)
      }
      if (c < 0x20) this.fail(`invalid control character ${describeChar(this.text[this.pos]!)} in string at position ${this.pos}`)
      if (c !== 0x5c) { // not '\'
        this.pos++
        continue
      }
      out += this.text.slice(chunk, this.pos)
      const e = this.text[this.pos + 1]
      switch (e) {
        case '"': out += '"'; break
        case '\\': out += '\\'; break
        case '/': out += '/'; break
        case 'b': out += '\b'; break
        case 'f': out += '\f'; break
        case 'n': out += '\n'; break
        case 'r': out += '\r'; break
        case 't': out += '\t'; break
        case 'u': {
          const hex = this.text.slice(this.pos + 2, this.pos + 6)
          if (!HEX.test(hex)) this.fail(`invalid \\u escape in string at position ${this.pos}`)
          // Surrogate halves are joined or replaced by toWellFormed at the end.
          out += String.fromCharCode(parseInt(hex, 16))
          this.pos += 4
          break
        }
        default:
          this.fail(`invalid escape ${e === undefined ? 'at end of input' : describeChar(e)} in string at position ${this.pos}`)
      }
      this.pos += 2
      chunk = this.pos
    }
  }

  private number (): JsonNumber {
    NUMBER.lastIndex = this.pos
    const m = NUMBER.exec(this.text)
    if (m === null) this.fail(`invalid number at position ${this.pos}`)
    const text = m[0]
    this.pos += text.length
    // "01" or "1." leave a digit or dot behind, which the caller then reports.
    const next = this.text[this.pos]
    if (next !== undefined && /[0-9.eE+-]/.test(next)) this.fail(`invalid number at position ${this.pos - text.length}`)
    return new JsonNumber(text)
  }

  private literal<T extends boolean | null> (word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length
      return value
    }
    return this.fail(`invalid literal at position ${this.pos}, expected ${word}`)
  }

  private expected (what: string): never {
    const c = this.text[this.pos]
    if (c === undefined) this.fail(`unexpected end of JSON input at position ${this.pos}, expected ${what}`)
    return this.fail(`invalid character ${describeChar(c)} at position ${this.pos}, expected ${what}`)
  }
}

function describeChar (c: string): string {
  const code = c.codePointAt(0) ?? 0
  if (code < 0x20 || code === 0x7f || code > 0x7e) return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  return `'${c}'`
}

/** Render keys and array indexes as `HostConfig.PortBindings["80/tcp"][0]`. */
export function formatPath (parts: ReadonlyArray<string | number>): string {
  let out = ''
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) out += out === '' ? p : `.${p}`
    else out += `[${JSON.stringify(p)}]`
  }
  return out
}
