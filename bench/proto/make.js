#!/usr/bin/env node
'use strict'
/**
 * Build a prototype: a copy of dist/ with one or more patches applied.
 *
 *   node bench/proto/make.js token-cache+audit-buffer   -> bench/results/proto/token-cache+audit-buffer/dist
 *
 * The copy lives under the repository so `require('fastify')` still resolves
 * to /work/main/node_modules. Prints the directory.
 */
const fs = require('node:fs')
const path = require('node:path')
const { patches } = require('./patches')

const ROOT = path.resolve(__dirname, '../..')

function make (spec) {
  const names = spec.split('+').filter(Boolean)
  const dir = path.join(ROOT, 'bench/results/proto', spec, 'dist')
  fs.rmSync(dir, { recursive: true, force: true })
  fs.cpSync(path.join(ROOT, 'dist'), dir, { recursive: true })
  for (const name of names) {
    const patch = patches[name]
    if (patch === undefined) throw new Error(`unknown prototype ${name} (have: ${Object.keys(patches).join(', ')})`)
    for (const edit of patch.edits) {
      const file = path.join(dir, edit.file)
      const src = fs.readFileSync(file, 'utf8')
      const at = src.indexOf(edit.find)
      if (at === -1 || src.indexOf(edit.find, at + 1) !== -1) {
        throw new Error(`prototype ${name}: anchor ${at === -1 ? 'not found' : 'not unique'} in dist/${edit.file}:\n${edit.find}`)
      }
      fs.writeFileSync(file, src.slice(0, at) + edit.replace + src.slice(at + edit.find.length))
    }
  }
  return dir
}

if (require.main === module) {
  const spec = process.argv[2]
  if (spec === undefined) {
    console.error(`usage: node bench/proto/make.js name[+name...]\n${Object.entries(patches).map(([k, v]) => `  ${k}: ${v.description}`).join('\n')}`)
    process.exit(2)
  }
  console.log(make(spec))
}

module.exports = { make }
