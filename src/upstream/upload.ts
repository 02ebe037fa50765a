import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { ArchiveTooLarge } from '../errors'

/**
 * The body of a `docker cp` into a container (PUT /containers/{id}/archive):
 * a tar of any size, which the gateway never holds. The client's request
 * stream is piped through a byte counter into the daemon request (undici
 * sends a Readable body chunk by chunk, waiting for the daemon socket to
 * drain), so a daemon that reads slowly slows the client, and memory stays
 * at a few chunks whatever the archive's size.
 *
 * Past `maxBytes` the counter fails with ArchiveTooLarge (413): undici then
 * aborts the daemon request, so dockerd reads a body that ends mid-stream and
 * its extraction fails instead of completing on a cut archive. What the
 * daemon had extracted by then stays (whole entries, and possibly the start
 * of the entry being written): the 413's message says so.
 */

/** ArchiveTooLarge before anything is sent, when the client's Content-Length is already over the limit. */
export function declaredTooLarge (contentLength: string | undefined, maxBytes: number): Error | undefined {
  if (contentLength === undefined || !/^[0-9]+$/.test(contentLength)) return undefined
  return Number(contentLength) > maxBytes ? new ArchiveTooLarge(maxBytes, ': nothing was sent to the daemon') : undefined
}

/** Counts bytes on their way to the daemon; fails past the limit. */
class UploadLimit extends Transform {
  private seen = 0

  constructor (private readonly maxBytes: number, private readonly onOverflow: () => void) {
    super()
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length
    if (this.seen <= this.maxBytes) { callback(null, chunk); return }
    this.onOverflow()
    callback(new ArchiveTooLarge(this.maxBytes, ': the upload was cut there, so the daemon\'s extraction failed; entries extracted before the cut stay in the container'))
  }
}

/**
 * The client's upload as the daemon request's body, bounded. `onOverflow`
 * runs once the limit is passed, before the error reaches undici (the caller
 * marks the answer `Connection: close`, so the rest of the upload is not read).
 * The client's stream is unpiped rather than destroyed on overflow: its
 * socket must stay open for the 413.
 */
export function limitedUpload (source: Readable, maxBytes: number, onOverflow: () => void): Readable {
  const limit = new UploadLimit(maxBytes, onOverflow)
  source.pipe(limit)
  limit.once('error', () => { source.unpipe(limit) })
  // A client gone mid-upload: the daemon must not see a clean end of body.
  source.once('error', (err) => { limit.destroy(err) })
  source.once('close', () => {
    if (!(source as Readable & { complete?: boolean }).complete && !limit.writableEnded) limit.destroy(new Error('the client closed the upload before its end'))
  })
  return limit
}
