import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { ArchiveCompressed, ArchiveTooLarge } from '../errors'
import { NOT_A_HEADER, TarCut } from '../docker/tar-cut'

/**
 * The body of a `docker cp` into a container (PUT /containers/{id}/archive):
 * a tar of any size, which the gateway never holds. The client's request
 * stream is piped through a limiter into the daemon request (undici sends a
 * Readable body chunk by chunk, waiting for the daemon socket to drain), so a
 * daemon that reads slowly slows the client, and memory stays at a few
 * chunks whatever the archive's size.
 *
 * At most `maxBytes` are forwarded, and the daemon must not end up with a
 * cut file or a silently partial copy. The upload is cut before the first
 * entry that does not fit whole (src/docker/tar-cut.ts), then one block that
 * is no tar header is sent and the body ended: dockerd writes every entry
 * before the cut, whole, then its reader fails on that block and the
 * extraction fails; the daemon's error answer is replaced by ArchiveTooLarge
 * (413), which says so. Ending the body cleanly matters: aborting the daemon
 * connection instead would drop whatever was still in the socket's buffer,
 * so the daemon could see a file cut anywhere. Only in an archive the cut
 * cannot follow (GNU sparse entries...) is the body cut at the byte limit and
 * the daemon request aborted. A compressed upload is refused before any byte
 * is forwarded (tar-cut.ts isCompressed says why).
 */

/** ArchiveTooLarge before anything is sent, when the client's Content-Length is already over the limit. */
export function declaredTooLarge (contentLength: string | undefined, maxBytes: number): Error | undefined {
  if (contentLength === undefined || !/^[0-9]+$/.test(contentLength)) return undefined
  return Number(contentLength) > maxBytes ? new ArchiveTooLarge(maxBytes, ': nothing was sent to the daemon') : undefined
}

const CUT_BETWEEN_ENTRIES = ': the upload was stopped before the first entry that did not fit, so the daemon\'s extraction failed; the entries before it were extracted, each whole'
const CUT_AT_LIMIT = ': the upload was cut at the limit, so the daemon\'s extraction failed; what was extracted before the cut stays, and the last file may be incomplete'

/** Passes the tar on to the daemon up to the cut. */
class UploadLimit extends Transform {
  private readonly cut: TarCut
  /** Set once the cut is made: the answer the client gets. */
  refusal: (Error & { statusCode: number }) | undefined

  constructor (private readonly maxBytes: number, private readonly onCut: () => void) {
    super()
    this.cut = new TarCut(maxBytes)
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Chunks already queued by the pipe when the cut was made.
    if (this.refusal !== undefined) { callback(); return }
    const { forward, over } = this.cut.push(chunk)
    if (forward.length > 0) this.push(forward)
    if (!over) { callback(); return }
    this.onCut()
    if (this.cut.compressed) {
      // Nothing was forwarded: the daemon request is aborted before its body starts.
      this.refusal = new ArchiveCompressed() as Error & { statusCode: number }
      callback(this.refusal)
      return
    }
    if (this.cut.onEntryBoundary) {
      this.refusal = new ArchiveTooLarge(this.maxBytes, CUT_BETWEEN_ENTRIES) as Error & { statusCode: number }
      this.push(NOT_A_HEADER)
      this.push(null)
      callback()
      return
    }
    this.refusal = new ArchiveTooLarge(this.maxBytes, CUT_AT_LIMIT) as Error & { statusCode: number }
    callback(this.refusal)
  }

  override _flush (callback: TransformCallback): void {
    const rest = this.cut.end()
    if (rest !== undefined) { callback(null, rest); return }
    this.refusal = new ArchiveCompressed() as Error & { statusCode: number }
    callback(this.refusal)
  }
}

export interface Upload {
  /** The daemon request's body. */
  body: Readable
  /** The answer the client gets instead of the daemon's, once the upload was cut. */
  refusal: () => (Error & { statusCode: number }) | undefined
}

/**
 * The client's upload as the daemon request's body, bounded. `onCut` runs
 * when the limit is reached (the caller marks the answer `Connection:
 * close`, so the rest of the upload is not read). The client's stream is
 * unpiped rather than destroyed then: its socket must stay open for the 413.
 */
export function limitedUpload (source: Readable, maxBytes: number, onCut: () => void): Upload {
  const limit = new UploadLimit(maxBytes, () => {
    source.unpipe(limit)
    onCut()
  })
  source.pipe(limit)
  // A client gone mid-upload: the daemon must not see a clean end of body.
  source.once('error', (err) => { limit.destroy(err) })
  source.once('close', () => {
    if ((source as Readable & { complete?: boolean }).complete !== true && limit.refusal === undefined) limit.destroy(new Error('the client closed the upload before its end'))
  })
  return { body: limit, refusal: () => limit.refusal }
}
