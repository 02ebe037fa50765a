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
