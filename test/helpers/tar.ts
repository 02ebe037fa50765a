/** List entry names of a POSIX/ustar tar stream held in memory (test-only helper). */
export function tarEntries (buf: Buffer): string[] {
  const names: string[] = []
  let off = 0
  while (off + 512 <= buf.length) {
    const header = buf.subarray(off, off + 512)
    if (header.every(b => b === 0)) break
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '')
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '')
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8)
    names.push(prefix !== '' ? `${prefix}/${name}` : name)
    off += 512 + Math.ceil(size / 512) * 512
  }
  return names
}

/** Decode Docker's multiplexed stream frames (8-byte header: stream, 0,0,0, big-endian size). */
export function demux (buf: Buffer): { stdout: string, stderr: string } {
  let stdout = ''
  let stderr = ''
  let off = 0
  while (off + 8 <= buf.length) {
    const kind = buf[off]
    const size = buf.readUInt32BE(off + 4)
    const payload = buf.subarray(off + 8, off + 8 + size).toString('utf8')
    if (kind === 2) stderr += payload
    else stdout += payload
    off += 8 + size
  }
  return { stdout, stderr }
}

export interface TarEntry {
  name: string
  /** '0' file (default), '1' hard link, '2' symlink, '3' char device, '4' block device, '5' directory, '6' fifo, 'x' PAX, 'S' GNU sparse... */
  type?: string
  /** The header's size field when it must differ from the body's length (a lying header). */
  size?: number
  body?: string | Buffer
  linkname?: string
  /** Octal permission bits, setuid/setgid included (default 0644, 0755 for directories). */
  mode?: number
  devmajor?: number
  devminor?: number
}

/** PAX extended header data: `<len> key=value\n` records. */
export function paxRecords (records: Record<string, string>): string {
  let out = ''
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`
    let len = rest.length + 1
    while (String(len).length + rest.length !== len) len++
    out += `${len}${rest}`
  }
  return out
}

/** A ustar archive built byte by byte, so a test can put in it what no well-behaved tar writer would (test-only helper). */
export function makeTar (entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = []
  const octal = (header: Buffer, offset: number, width: number, value: number): void => {
    header.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'ascii')
  }
  for (const e of entries) {
    const type = e.type ?? '0'
    const body = Buffer.from(e.body ?? '')
    const header = Buffer.alloc(512)
    header.write(e.name, 0, 100, 'utf8')
    octal(header, 100, 8, e.mode ?? (type === '5' ? 0o755 : 0o644))
    octal(header, 108, 8, 0)
    octal(header, 116, 8, 0)
    octal(header, 124, 12, e.size ?? body.length)
    octal(header, 136, 12, Math.floor(Date.now() / 1000))
    header.write(type, 156, 1, 'ascii')
    if (e.linkname !== undefined) header.write(e.linkname, 157, 100, 'utf8')
    header.write('ustar\0' + '00', 257, 8, 'ascii')
    octal(header, 329, 8, e.devmajor ?? 0)
    octal(header, 337, 8, e.devminor ?? 0)
    header.fill(' ', 148, 156)
    let sum = 0
    for (const b of header) sum += b
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii')
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}
