import crypto from 'node:crypto'
import zlib from 'node:zlib'
import t from 'tap'
import { TarCut, isCompressed, paxSize, tarSize } from '../../../src/docker/tar-cut'
import { makeTar, paxRecords, tarEntries } from '../../helpers/tar'

/**
 * Where a docker cp upload over limits.archiveUploadBytes is cut
 * (src/docker/tar-cut.ts): before the first entry that does not fit whole,
 * sized as Go's archive/tar reader sizes it; never more than the limit.
 */

/** Feed `tar` in chunks of `size` bytes (random sizes when 0); what was forwarded and whether it stopped. */
function feed (tar: Buffer, max: number, size: number): { forwarded: Buffer, over: boolean } {
  const cut = new TarCut(max)
  const out: Buffer[] = []
  for (let pos = 0; pos < tar.length;) {
    const n = size > 0 ? size : 1 + crypto.randomInt(2000)
    const { forward, over } = cut.push(tar.subarray(pos, pos + n))
    out.push(forward)
    pos += n
    if (over) return { forwarded: Buffer.concat(out), over: true }
  }
  out.push(cut.end() ?? Buffer.alloc(0))
  return { forwarded: Buffer.concat(out), over: false }
}

const CHUNKINGS = [1, 7, 511, 512, 513, 4096, 0, 0, 0]

t.test('an archive within the limit passes unchanged, however it is chunked', async t => {
  const tar = makeTar([{ name: 'a', body: 'x'.repeat(1000) }, { name: 'd', type: '5' }, { name: 'l', type: '2', linkname: '/' }, { name: 'b', body: '' }])
  for (const size of CHUNKINGS) {
    const r = feed(tar, tar.length, size)
    t.notOk(r.over, `chunks of ${size}`)
    t.ok(r.forwarded.equals(tar), `chunks of ${size}: the same bytes`)
  }
})

t.test('over the limit: cut before the header of the first entry that does not fit', async t => {
  const first = makeTar([{ name: 'first', body: 'complete' }]).subarray(0, -1024)
  const tar = makeTar([{ name: 'first', body: 'complete' }, { name: 'big', body: crypto.randomBytes(100_000) }, { name: 'after', body: 'x' }])
  for (const max of [first.length, first.length + 512, 50_000, first.length + 512 + 100_000]) {
    for (const size of CHUNKINGS) {
      const r = feed(tar, max, size)
      t.ok(r.over, `limit ${max}, chunks of ${size}: stopped`)
      t.ok(r.forwarded.equals(first), `limit ${max}, chunks of ${size}: exactly the entries before "big"`)
      t.same(tarEntries(r.forwarded), ['first'])
    }
  }
  // Only the trailer does not fit: every entry went through, then the cut.
  const r = feed(tar, tar.length - 512, 4096)
  t.ok(r.over)
  t.same(tarEntries(r.forwarded), ['first', 'big', 'after'])
})

t.test('header-only entries carry no data, whatever their size field says (Go: isHeaderOnlyType)', async t => {
  // A symlink claiming 1 MB: Go reads no data for it, so the next block is the next header.
  const tar = makeTar([{ name: 'l', type: '2', linkname: '/', size: 1_000_000 }, { name: 'f', body: 'data' }])
  const r = feed(tar, tar.length, 100)
  t.notOk(r.over, 'a lying size field does not count')
  t.ok(r.forwarded.equals(tar))
})

t.test('a PAX size record sizes the next entry', async t => {
  const pax = paxRecords({ path: 'long/'.repeat(40) + 'name', size: '100000' })
  t.equal(paxSize(Buffer.from(pax)), 100_000)
  // The regular header says 10 bytes; the PAX record (which Go's reader obeys) says 100000.
  const tar = makeTar([{ name: 'first', body: 'ok' }, { name: 'PaxHeader', type: 'x', body: pax }, { name: 'f', body: crypto.randomBytes(100_000), size: 10 }])
  const r = feed(tar, 50_000, 1000)
  t.ok(r.over)
  t.same(tarEntries(r.forwarded), ['first', 'PaxHeader'], 'cut before the entry the PAX header sizes')
  t.ok(r.forwarded.length <= 50_000)
})

t.test('a second PAX header, or a global one, drops the size an earlier PAX header gave (as Go reads it)', async t => {
  // x(size=0), then x (no size), then a 60000-byte file: Go sizes the file by its own header.
  const big = crypto.randomBytes(60_000)
  for (const second of [{ name: 'pax2', type: 'x', body: paxRecords({ comment: 'x' }) }, { name: 'glob', type: 'g', body: paxRecords({ comment: 'x' }) }]) {
    const tar = makeTar([{ name: 'first', body: 'complete' }, { name: 'pax1', type: 'x', body: paxRecords({ size: '0' }) }, second, { name: 'big', body: big }])
    const r = feed(tar, 16_384, 512)
    t.ok(r.over, `${second.type}: over the limit`)
    t.same(tarEntries(r.forwarded), ['first', 'pax1', second.name], `${second.type}: cut before "big", which would not fit whole`)
  }
})

t.test('sizes in octal and base-256', async t => {
  const header = Buffer.alloc(512)
  header.write('00000001750\0', 124, 'latin1')
  t.equal(tarSize(header), 1000)
  const b256 = Buffer.alloc(512)
  b256[124] = 0x80
  b256.writeUInt32BE(0x12345678, 132)
  t.equal(tarSize(b256), 0x12345678)
  const bad = Buffer.alloc(512)
  bad.write('12x', 124, 'latin1')
  t.ok(Number.isNaN(tarSize(bad)))
  // A base-256 size far over the limit: cut before it.
  const tar = makeTar([{ name: 'a', body: 'x' }, { name: 'huge', body: 'y' }])
  tar[1024 + 124] = 0x80
  tar.fill(0xff, 1024 + 125, 1024 + 136)
  const r = feed(tar, 1_000_000, 512)
  t.ok(r.over)
  t.same(tarEntries(r.forwarded), ['a'])
})

t.test('what the cut does not follow is still bounded by bytes', async t => {
  const sparse = makeTar([{ name: 'a', body: 'x' }, { name: 's', type: 'S', body: crypto.randomBytes(50_000) }])
  const paxSparse = makeTar([{ name: 'PaxHeader', type: 'x', body: paxRecords({ 'GNU.sparse.major': '1' }) }, { name: 's', body: crypto.randomBytes(50_000) }])
  const badSize = makeTar([{ name: 'a', body: 'x' }, { name: 'b', body: crypto.randomBytes(50_000) }])
  badSize.write('zz', 1024 + 124, 'latin1')
  for (const [what, tar] of [['GNU sparse', sparse], ['PAX sparse', paxSparse], ['a size that is no number', badSize]] as const) {
    for (const size of CHUNKINGS) {
      const r = feed(tar, 20_000, size)
      t.ok(r.over, `${what}, chunks of ${size}: stopped`)
      t.equal(r.forwarded.length, 20_000, `${what}, chunks of ${size}: exactly the limit`)
      t.ok(r.forwarded.equals(tar.subarray(0, 20_000)), `${what}: the archive's own bytes`)
    }
  }
})

t.test('never more than the limit, on random archives and chunkings', async t => {
  for (let i = 0; i < 200; i++) {
    const entries = Array.from({ length: 1 + crypto.randomInt(6) }, (_, j) => ({ name: `f${j}`, body: crypto.randomBytes(crypto.randomInt(5000)) }))
    const tar = makeTar(entries)
    const max = 512 + crypto.randomInt(tar.length + 512)
    const r = feed(tar, max, 0)
    t.ok(r.forwarded.length <= max, `${r.forwarded.length} <= ${max}`)
    t.ok(r.forwarded.equals(tar.subarray(0, r.forwarded.length)), 'a prefix of the archive')
    if (r.over) t.equal(r.forwarded.length % 512, 0, 'cut on a block boundary')
    else t.ok(r.forwarded.equals(tar), 'whole when it fits')
  }
})

t.test('a compressed archive is refused before any byte is forwarded (dockerd would decompress it on its host)', async t => {
  const tar = makeTar([{ name: 'f', body: crypto.randomBytes(10_000) }])
  const compressed = {
    gzip: zlib.gzipSync(tar),
    bzip2: Buffer.concat([Buffer.from('BZh91AY&SY'), crypto.randomBytes(600)]),
    xz: Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), crypto.randomBytes(600)]),
    zstd: Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), crypto.randomBytes(600)]),
    'zstd skippable frame': Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18]), crypto.randomBytes(600)])
  }
  for (const [what, bytes] of Object.entries(compressed)) {
    t.ok(isCompressed(bytes), what)
    for (const size of [1, 3, 512, 4096]) {
      const cut = new TarCut(1_000_000)
      let forwarded = 0
      let over = false
      for (let pos = 0; pos < bytes.length && !over; pos += size) {
        const r = cut.push(bytes.subarray(pos, pos + size))
        forwarded += r.forward.length
        over = r.over
      }
      t.ok(over && cut.compressed, `${what}, chunks of ${size}: stopped as compressed`)
      t.equal(forwarded, 0, `${what}: nothing forwarded`)
    }
  }
  // Shorter than a tar block: found at the end.
  const tiny = new TarCut(1_000_000)
  t.equal(tiny.push(zlib.gzipSync(Buffer.alloc(10))).forward.length, 0)
  t.equal(tiny.end(), undefined)
  t.ok(tiny.compressed)
  t.notOk(isCompressed(tar), 'a plain tar is not')
})
