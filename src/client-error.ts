import type { Socket } from 'node:net'

/**
 * Answer for requests Node's HTTP parser cannot read at all (RFC 9112 §6.3:
 * Content-Length together with Transfer-Encoding, bytes after a zero-length
 * body, an oversized head): a 400 or 431 in Docker's shape, then close,
 * since nothing more on that connection can be framed. Nothing was
 * forwarded.
 */
export function dockerClientErrorHandler (err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) return
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'
  const body = JSON.stringify({ message: tooLarge ? 'request headers are too large' : `malformed HTTP request (${err.code ?? 'parse error'})` })
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}
