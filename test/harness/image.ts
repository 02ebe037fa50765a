// The test image: no registry is reachable, so it is imported from a root
// filesystem holding /bin/busybox (busybox-static) and its applet links, the
// same content as `tar -C root -c . | docker import - dgw-busybox:test`.
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { engineRequest, expectStatus, type EngineTarget } from './engine'

export const TEST_IMAGE = 'dgw-busybox:test'

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox']

/** True when the ELF file has no PT_INTERP program header, i.e. needs no libc in the image. */
function isStaticElf (file: string): boolean {
  const buf = fs.readFileSync(file)
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2) return false // ELF, 64-bit
  const phoff = Number(buf.readBigUInt64LE(0x20))
  const phentsize = buf.readUInt16LE(0x36)
  const phnum = buf.readUInt16LE(0x38)
  for (let i = 0; i < phnum; i++) {
    if (buf.readUInt32LE(phoff + i * phentsize) === 3) return false // PT_INTERP
  }
  return true
}

export function findStaticBusybox (): string {
  for (const file of BUSYBOX_CANDIDATES) {
    if (fs.existsSync(file) && isStaticElf(file)) return file
  }
  throw new Error('no statically linked busybox found (apt-get install busybox-static)')
}

/** Build the root filesystem in a fresh temp dir; the caller removes it. */
function buildRootfs (): string {
  const busybox = findStaticBusybox()
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dgw-rootfs-'))
  const bin = path.join(root, 'bin')
  fs.mkdirSync(bin)
  fs.copyFileSync(busybox, path.join(bin, 'busybox'))
  fs.chmodSync(path.join(bin, 'busybox'), 0o755)
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(a => /^[\w.[\]-]+$/.test(a))
  for (const applet of applets) {
    if (applet !== 'busybox') fs.symlinkSync('busybox', path.join(bin, applet))
  }
  return root
}

export async function hasImage (target: EngineTarget, image = TEST_IMAGE): Promise<boolean> {
  const res = await engineRequest(target, `/images/${encodeURIComponent(image)}/json`)
  return res.status === 200
}

/** Import the test image unless the daemon has it already. Returns whether it imported. */
export async function ensureTestImage (target: EngineTarget, image = TEST_IMAGE): Promise<boolean> {
  if (await hasImage(target, image)) return false
  const root = buildRootfs()
  try {
    const tar = spawn('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let tarErr = ''
    tar.stderr.on('data', (d: Buffer) => { tarErr += d.toString() })
    const [repo, tag] = image.split(':')
    const res = expectStatus(await engineRequest(target, '/images/create', {
      method: 'POST',
      query: { fromSrc: '-', repo, tag: tag ?? 'latest' },
      headers: { 'content-type': 'application/x-tar' },
      body: tar.stdout,
      timeoutMs: 60_000
    }), `import ${image}`, [200])
    // the answer is a JSON progress stream; a failed import reports errorDetail in it
    const text = res.body.toString('utf8')
    if (text.includes('"errorDetail"')) throw new Error(`import ${image}: ${text.slice(0, 500)}`)
    if (tar.exitCode !== null && tar.exitCode !== 0) throw new Error(`tar failed: ${tarErr}`)
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
  if (!(await hasImage(target, image))) throw new Error(`import ${image}: image missing after import`)
  return true
}
