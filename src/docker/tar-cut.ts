/**
 * Where to cut a tar upload that is over its byte limit (docker cp into a
 * container): before the header of the first entry that does not fit whole,
 * so the daemon never starts writing a file it cannot finish
 * (src/upstream/upload.ts says how the daemon is then made to fail).
 *
 * The tar is followed as Go's archive/tar reader (the daemon's) sizes
 * entries: 512-byte headers, data padded to 512; no data for link, symlink,
 * device, directory and fifo headers whatever their size field says
 * (isHeaderOnlyType); a PAX `size` record replaces the next entry's size;
 * sizes in octal or base-256. Whatever it cannot follow (GNU sparse or
 * multi-volume entries, a PAX header over Go's 1 MiB limit, a size that is
 * not a number) switches it to counting bytes only: the limit on the bytes
 * forwarded is kept in every case; only the cut's position is best effort.
 */

const BLOCK = 512
/** Go's archive/tar maxSpecialFileSize: a larger PAX header fails the daemon's reader anyway. */
const PAX_MAX = 1 << 20
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6'])
/** GNU sparse, multi-volume and volume-label entries: laid out in ways this cut does not follow. */
const UNFOLLOWED = new Set(['S', 'M', 'V'])

/**
 * A block that is no tar header (all 0xff: its checksum field is no number),
 * sent after a cut on an entry boundary: Go's reader stops with ErrHeader
 * there, so the extraction fails after everything before it was written.
 */
export const NOT_A_HEADER: Buffer = Buffer.alloc(BLOCK, 0xff)

/**
 * The starts dockerd reads as a compressed archive (pkg/archive
 * DetectCompression: bzip2, gzip, xz, zstd and zstd's skippable frame).
 * Refused: the daemon would decompress on its host, so the bytes it writes
 * would no longer be bounded by the bytes the gateway counted (a small
 * upload can expand without limit), and on newer daemons the decompressor
 * was run from the container's filesystem (CVE-2026-41567). The docker CLI
 * never compresses what `docker cp` sends.
 */
export function isCompressed (start: Buffer): boolean {
  const b = (i: number): number => start[i] ?? -1
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return true
  if (b(0) === 0x1f && b(1) === 0x8b && b(2) === 0x08) return true
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a && b(5) === 0x00) return true
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return true
  return (b(0) & 0xf0) === 0x50 && b(1) === 0x2a && b(2) === 0x4d && b(3) === 0x18
}

const padded = (n: number): number => Math.ceil(n / BLOCK) * BLOCK

/** The size field (offset 124, 12 bytes): octal text, or base-256 when its first bit is set. NaN if neither. */
export function tarSize (header: Buffer): number {
  const field = header.subarray(124, 136)
  if (((field[0] as number) & 0x80) !== 0) {
    let n = (field[0] as number) & 0x7f
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] as number)
    return n
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '')
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : (text === '' ? 0 : NaN)
}

/** The `size` record of PAX data (`<len> key=value\n` records), if any; NaN when it is not a number. */
export function paxSize (data: Buffer): number | undefined {
  let size: number | undefined
  let pos = 0
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos)
    if (space === -1) break
    const len = Number(data.subarray(pos, space).toString('latin1'))
    if (!Number.isInteger(len) || len <= space - pos || pos + len > data.length) break
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8')
    const eq = record.indexOf('=')
    const key = record.slice(0, eq)
    if (key === 'size') size = /^[0-9]+$/.test(record.slice(eq + 1)) ? Number(record.slice(eq + 1)) : NaN
    // GNU sparse files in PAX form: data laid out by a map, not followed here.
    if (key.startsWith('GNU.sparse.')) return NaN
    pos += len
  }
  return size
}

export class TarCut {
  /** Bytes handed on so far. */
  private sent = 0
  /** A header's first bytes, until its 512 are in. */
  private head: Buffer[] = []
  private headLength = 0
  /** Data and padding of the current entry still to pass. */
  private dataLeft = 0
  /** PAX data being gathered (its `size` applies to the next entry), and the padding after it. */
  private pax: Buffer[] | undefined
  private paxLeft = 0
  private nextSize: number | undefined
  /** Counting bytes only (something this cut does not follow). */
  private blind = false
  /** The upload starts as a compressed archive: nothing is forwarded. */
  compressed = false

  constructor (private readonly maxBytes: number) {}

  /** The part of `chunk` to forward, and whether the upload stops here (nothing more may be forwarded). */
  push (input: Buffer): { forward: Buffer, over: boolean } {
    let chunk = input
    const out: Buffer[] = []
    let outLength = 0
    let pos = 0
    const take = (n: number): Buffer => { const b = chunk.subarray(pos, pos + n); pos += n; out.push(b); outLength += b.length; return b }
    while (pos < chunk.length) {
      if (this.blind) {
        const room = this.maxBytes - this.sent - outLength
        if (chunk.length - pos > room) { take(room); return this.result(out, true) }
        take(chunk.length - pos)
        break
      }
      if (this.dataLeft > 0) {
        const part = take(Math.min(this.dataLeft, chunk.length - pos))
        this.dataLeft -= part.length
        if (this.pax !== undefined) this.gatherPax(part)
        continue
      }
      const part = chunk.subarray(pos, pos + Math.min(BLOCK - this.headLength, chunk.length - pos))
      pos += part.length
      this.head.push(part)
      this.headLength += part.length
      if (this.headLength < BLOCK) break
      const header = Buffer.concat(this.head)
      this.head = []
      this.headLength = 0
      if (this.sent + outLength === 0 && isCompressed(header)) {
        this.compressed = true
        return this.result(out, true)
      }
      const data = this.entryData(header)
      if (Number.isFinite(data)) {
        if (this.sent + outLength + BLOCK + padded(data) > this.maxBytes) return this.result(out, true)
        out.push(header)
        outLength += BLOCK
        this.dataLeft = padded(data)
        continue
      }
      // Not followed: from this header on, forward what the byte limit allows.
      this.blind = true
      chunk = Buffer.concat([header, chunk.subarray(pos)])
      pos = 0
    }
    return this.result(out, false)
  }

  /** Whether the cut fell between entries (else, in a part not followed, at the byte limit). */
  get onEntryBoundary (): boolean {
    return !this.blind
  }

  /** At the end of the upload: a header's bytes still held back (a truncated archive; the daemon will say so), or undefined when they start a compressed one. */
  end (): Buffer | undefined {
    const rest = Buffer.concat(this.head)
    this.head = []
    this.headLength = 0
    if (this.sent === 0 && isCompressed(rest)) {
      this.compressed = true
      return undefined
    }
    return rest
  }

  private result (out: Buffer[], over: boolean): { forward: Buffer, over: boolean } {
    const forward = out.length === 1 ? out[0] as Buffer : Buffer.concat(out)
    this.sent += forward.length
    return { forward, over }
  }

  /** Data bytes after this header, as Go's reader counts them; NaN when not followed (then counted blind). */
  private entryData (header: Buffer): number {
    if (header.every(b => b === 0)) return 0
    const type = String.fromCharCode(header[156] as number)
    if (UNFOLLOWED.has(type)) return NaN
    let size = tarSize(header)
    // Go's reader keeps only the latest PAX header's records for the next
    // entry: another `x`, or a `g` (returned as an entry of its own), drops
    // what an earlier `x` said.
    if (type === 'x' || type === 'g') this.nextSize = undefined
    if (type === 'x') {
      if (!(size <= PAX_MAX)) return NaN
      this.pax = size > 0 ? [] : undefined
      this.paxLeft = size
      return size
    }
    if (type !== 'g' && type !== 'L' && type !== 'K') {
      if (this.nextSize !== undefined) size = this.nextSize
      this.nextSize = undefined
      if (HEADER_ONLY.has(type)) return 0
    }
    return size
  }

  private gatherPax (part: Buffer): void {
    const used = part.subarray(0, Math.max(0, Math.min(part.length, this.paxLeft)))
    this.pax?.push(used)
    this.paxLeft -= used.length
    if (this.paxLeft > 0 || this.dataLeft > 0) return
    const size = paxSize(Buffer.concat(this.pax ?? []))
    this.pax = undefined
    if (size === undefined) return
    if (Number.isNaN(size)) this.blind = true
    else this.nextSize = size
  }
}
