#!/usr/bin/env node
'use strict'
// Re-render a results JSON as markdown: node bench/report.js [results.json] [out.md]
const fs = require('node:fs')
const path = require('node:path')
const { renderMarkdown } = require('./lib/report')

const input = process.argv[2] ?? path.join(__dirname, 'results/latest.json')
const output = process.argv[3]
const md = renderMarkdown(JSON.parse(fs.readFileSync(input, 'utf8')), { previous: output })
if (output !== undefined) fs.writeFileSync(output, md)
else process.stdout.write(md)
