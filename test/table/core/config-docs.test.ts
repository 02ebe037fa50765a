import fs from 'node:fs'
import t from 'tap'
import { OUTPUT, render } from '../../../scripts/gen-config-docs'
import { ENV_KEYS } from '../../../src/config/load'

// docs/configuration.md is generated from the config schema and its doc
// comments: a key added, renamed or re-defaulted without regenerating the
// reference fails here (`npm run gen:docs`).
t.test('docs/configuration.md is what the schema says now', async t => {
  t.equal(fs.readFileSync(OUTPUT, 'utf8'), render(), 'up to date (run `npm run gen:docs`)')
})

t.test('every environment variable is in the reference', async t => {
  const text = render()
  for (const name of Object.keys(ENV_KEYS)) t.match(text, `\`${name}\``, name)
})
