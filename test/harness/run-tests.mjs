#!/usr/bin/env node
// `npm test` runner: tap itself (with the .taprc before/after harness), then
// ONE plain summary line on stdout, after all of tap's output:
//
//   N passed, N failed, N skipped
//
// counted from the per-file TAP streams (tap-parser, which ships with tap),
// at the level of individual test points (assertions). Exit status: tap's
// own, or 1 when the count shows a failure tap did not report.
// Arguments are passed to tap (`npm test -- test/e2e/core/`).
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Parser } from 'tap-parser'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
// a directory of our own, so neither results of earlier runs nor those of a
// concurrent run in the same checkout (.tap/test-results) are counted
const outDir = path.join(root, '.tap', `summary-${process.pid}`)

function tapFiles (dir) {
  let out = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) out = out.concat(tapFiles(p))
    else if (entry.name.endsWith('.tap')) out.push(p)
  }
  return out
}

function count (files) {
  const c = { passed: 0, failed: 0, skipped: 0, todo: 0, broken: [] }
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8')
    let failedHere = 0
    for (const [event, data] of Parser.parse(text, { flat: true })) {
      if (event !== 'assert') continue
      if (data.todo) c.todo++
      else if (data.skip) c.skipped++
      else if (data.ok) c.passed++
      else { c.failed++; failedHere++ }
    }
    // The flat view drops subtest summary points; the nested view tells
    // whether the file as a whole was fine (plan met, no bail-out, no
    // failing subtest without a failing assertion, e.g. a timeout).
    const complete = Parser.parse(text).find(([event]) => event === 'complete')?.[1]
    if (complete?.plan?.skipAll) c.skipped++
    else if ((!complete || !complete.ok) && failedHere === 0) {
      c.failed++
      c.broken.push(path.relative(outDir, file).replace(/\.tap$/, ''))
    }
  }
  return c
}

// Test files are TypeScript run through tsx (see .taprc). Without tap's own
// TypeScript plugin tap does not treat .ts as a test extension when it
// searches directories, so directories (and the default, test/) are expanded
// to their *.test.ts files here and tap is given explicit paths.
function testFiles (dir) {
  let out = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('fixture')) out = out.concat(testFiles(p))
    } else if (entry.name.endsWith('.test.ts')) out.push(path.relative(root, p))
  }
  return out.sort()
}
const args = process.argv.slice(2)
const expanded = []
let sawPath = false
for (const a of args) {
  if (!a.startsWith('-') && fs.existsSync(path.resolve(root, a))) {
    sawPath = true
    const full = path.resolve(root, a)
    if (fs.statSync(full).isDirectory()) expanded.push(...testFiles(full))
    else expanded.push(a)
  } else expanded.push(a)
}
if (!sawPath) expanded.push(...testFiles(path.join(root, 'test')))

const tapBin = path.join(root, 'node_modules', '.bin', 'tap')
const child = spawn(tapBin, [`--output-dir=${outDir}`, ...expanded], { cwd: root, stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { child.kill(sig) })
}
child.on('exit', (code, signal) => {
  let c = { passed: 0, failed: 0, skipped: 0, todo: 0, broken: [] }
  try {
    if (fs.existsSync(outDir)) c = count(tapFiles(outDir))
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true })
  }
  const tapStatus = signal ? 1 : (code ?? 1)
  for (const f of c.broken) process.stdout.write(`# ${f}: ended without a complete, passing plan (crash, timeout or bail-out)\n`)
  if (tapStatus !== 0 && c.failed === 0) {
    process.stdout.write(`# tap exited with ${signal ?? `code ${code}`} although no test point failed (see its output above)\n`)
  }
  // The coverage bar (test/coverage-thresholds.json) holds for a whole run
  // only: a run of one folder covers less by design.
  if (!sawPath && tapStatus === 0) {
    const below = checkCoverage()
    if (below.length > 0) {
      for (const line of below) process.stdout.write(`# coverage below the bar: ${line}\n`)
      c.failed++
    }
  }
  process.stdout.write(`${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped${c.todo ? `, ${c.todo} todo` : ''}\n`)
  process.exitCode = tapStatus !== 0 ? tapStatus : (c.failed > 0 ? 1 : 0)
})

/**
 * tsx hands V8 source maps whose `sourcesContent` is [null]; v8-to-istanbul
 * then takes the original file to be empty and counts every module as ONE
 * line, so tap reported 100 % of nothing. Without `sourcesContent` it reads
 * the file from disk. Rewrites the run's raw coverage files in place.
 */
function repairSourceMaps (dir) {
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.json')) continue
    const file = path.join(dir, name)
    const data = JSON.parse(fs.readFileSync(file, 'utf8'))
    let changed = false
    for (const entry of Object.values(data['source-map-cache'] ?? {})) {
      const content = entry?.data?.sourcesContent
      if (Array.isArray(content) && !content.some(Boolean)) {
        delete entry.data.sourcesContent
        changed = true
      }
    }
    if (changed) fs.writeFileSync(file, JSON.stringify(data))
  }
}

/**
 * tap 21 has no percentage thresholds (only "100 % or allow incomplete"), so
 * the bar is checked here against tap's own json-summary report of the run.
 * Returns one line per metric below its threshold.
 */
function checkCoverage () {
  const bar = JSON.parse(fs.readFileSync(path.join(root, 'test', 'coverage-thresholds.json'), 'utf8'))
  const raw = path.join(root, '.tap', 'coverage')
  if (!fs.existsSync(raw)) return ['no coverage data in .tap/coverage']
  repairSourceMaps(raw)
  const r = spawnSync(tapBin, ['report', 'json-summary'], { cwd: root, encoding: 'utf8' })
  const file = path.join(root, '.tap', 'report', 'coverage-summary.json')
  if (r.status !== 0 || !fs.existsSync(file)) return [`no coverage report (tap report exited ${r.status}): ${r.stderr}`]
  const total = JSON.parse(fs.readFileSync(file, 'utf8')).total
  const out = []
  for (const metric of ['lines', 'statements', 'functions', 'branches']) {
    const pct = Number(total[metric]?.pct)
    process.stdout.write(`# coverage ${metric}: ${pct} % (bar ${bar[metric]} %)\n`)
    if (!(pct >= bar[metric])) out.push(`${metric} ${pct} % < ${bar[metric]} %`)
  }
  return out
}
