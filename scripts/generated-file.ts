// The command-line end of every generator in scripts/: write the generated
// text to its file, or with --check exit 1 when the committed file differs
// (the tests compare the same text; this is for people and hooks).
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { relative } from 'node:path'

export function writeOrCheck (file: string, text: string, command: string): void {
  const shown = relative(process.cwd(), file)
  if (process.argv.includes('--check')) {
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
      process.stderr.write(`${shown} is out of date: run ${command}\n`)
      process.exit(1)
    }
    process.stdout.write(`${shown} is up to date\n`)
    return
  }
  writeFileSync(file, text)
  process.stdout.write(`wrote ${shown}\n`)
}
