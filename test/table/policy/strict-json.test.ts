import t from 'tap'
import { JsonNumber, JsonObject, JsonParseError, parseStrictJson, type JsonValue } from '../../../src/policy/strict-json'

/** Plain JS view of a parse result, for comparing. */
function plain (v: JsonValue): unknown {
  if (v instanceof JsonNumber) return { num: v.text }
  if (v instanceof JsonObject) return v.entries.map(([k, x]) => [k, plain(x)])
  if (Array.isArray(v)) return v.map(plain)
  return v
}

function error (text: string, maxDepth?: number): JsonParseError {
  try {
    parseStrictJson(text, maxDepth === undefined ? {} : { maxDepth })
  } catch (err) {
    if (err instanceof JsonParseError) return err
    throw err
  }
  throw new Error(`parsed: ${text}`)
}

t.test('parses what JSON.parse parses, keeping member order and number text', async t => {
  t.same(plain(parseStrictJson(' {"a":[1,-0.5e+3,true,false,null,"x"],"b":{}} ')), [
    ['a', [{ num: '1' }, { num: '-0.5e+3' }, true, false, null, 'x']],
    ['b', []]
  ])
  t.same(plain(parseStrictJson('[]')), [])
  t.equal(parseStrictJson('"\\"\\\\\\/\\b\\f\\n\\r\\t"'), '"\\/\b\f\n\r\t')
})

t.test('decodes \\u escapes before keys are compared', async t => {
  t.equal(parseStrictJson('"Bind\\u017f"'), 'Bindſ')
  t.equal(parseStrictJson('"\\ud83d\\ude00"'), '😀', 'a surrogate pair joins')
  t.equal(parseStrictJson('"a\\ud800b"'), 'a\ufffdb', 'a lone surrogate becomes U+FFFD, as in Go')
  t.equal(parseStrictJson('"\\udc00\\ud800"'), '\ufffd\ufffd', 'reversed halves are two lone surrogates')
  const e = error('{"Privileged":1,"Privil\\u0065ged":2}')
  t.equal(e.kind, 'duplicate-key', 'an escaped spelling of the same key is a duplicate')
  t.equal(error('{"a\\ud800":1,"a\\udbff":2}').kind, 'duplicate-key', 'keys that differ only in lone surrogates are equal for Go')
})

t.test('refuses duplicate keys at any depth, naming where', async t => {
  const top = error('{"HostConfig":{"Privileged":true},"HostConfig":{"Memory":1}}')
  t.equal(top.kind, 'duplicate-key')
  t.match(top.message, /duplicate key "HostConfig" at position 34/)
  const nested = error('{"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"1","HostPort":"2"}]}}}')
  t.match(nested.message, /duplicate key "HostPort" in HostConfig\.PortBindings\["80\/tcp"\]\[0\]/)
  t.same(plain(parseStrictJson('[{"a":1},{"a":2}]')), [[['a', { num: '1' }]], [['a', { num: '2' }]]], 'the same key in sibling objects is fine')
})

t.test('refuses malformed JSON with a position', async t => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   ', /empty/],
    ['{"a":1} x', /unexpected content after the JSON value at position 8/],
    ['{"a":1}{"a":2}', /unexpected content after the JSON value/],
    ['{"a":1,}', /expected a string key/],
    ['[1,]', /beginning of a value/],
    ["{'a':1}", /expected a string key/],
    ['{"a" 1}', /expected ':'/],
    ['{"a":1 "b":2}', /expected ',' or '}'/],
    ['[1 2]', /expected ',' or '\]'/],
    ['{"a":01}', /invalid number at position 5/],
    ['{"a":1.}', /invalid number/],
    ['{"a":.5}', /beginning of a value/],
    ['{"a":-}', /invalid number/],
    ['{"a":1e}', /invalid number/],
    ['{"a":+1}', /beginning of a value/],
    ['{"a":NaN}', /beginning of a value/],
    ['{"a":tru}', /invalid literal/],
    ['{"a":nul}', /invalid literal/],
    ['"abc', /unterminated string/],
    ['"a\tb"', /control character U\+0009/],
    ['"\\x41"', /invalid escape 'x'/],
    ['"\\u12"', /invalid \\u escape/],
    ['"\\u12G4"', /invalid \\u escape/],
    ['\ufeff{}', /invalid character U\+FEFF/],
    ['{"a":1', /unexpected end of JSON input/],
    ['[', /unexpected end/]
  ]
  for (const [text, re] of cases) {
    const e = error(text)
    t.equal(e.kind, 'syntax', JSON.stringify(text))
    t.match(e.message, re, JSON.stringify(text))
  }
  t.equal(error('\u00a0{}').kind, 'syntax', 'a non-breaking space is not JSON whitespace')
})

t.test('limits nesting depth', async t => {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n)
  t.doesNotThrow(() => parseStrictJson(deep(64)), '64 levels are fine')
  t.equal(error(deep(65)).kind, 'depth')
  t.match(error('{"a":' + deep(64) + '}').message, /deeper than 64/)
  t.equal(error(deep(5), 4).kind, 'depth', 'the limit is configurable')
  t.equal(error('['.repeat(100000)).kind, 'depth', 'a huge nesting attempt fails fast instead of overflowing the stack')
})
