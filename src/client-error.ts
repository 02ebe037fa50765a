import { dockerErrorResponse } from './errors'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * What the gateway did with a request Node's HTTP parser could not read:
 * the audit fields of its line (issue 10 finding 10: one line per request,
 * parser rejections included). There is no principal: nothing was
 * authenticated, and nothing was forwarded.
 */
export interface ParserRejection {
  status: number
  /** `http parser: <err.code>`, e.g. `http parser: HPE_INVALID_HEADER_TOKEN`, or `header deadline`. */
  reason: string
  ip: string | undefined
  /** Bytes read on the connection, the rejected ones included. */
  bytesIn: number
  bytesOut: number
}

export interface ClientErrorHooks {
  /** A rejection no request line will record: write its own audit line. */
  audit: (rejection: ParserRejection) => void
  /** The head did not arrive within headersTimeout (a slow or idle client). */
  headerDeadline?: (ip: string | undefined) => void
}

/** Marks the raw request of a response in flight when the parser rejected what followed it. */
export const kParserRejection = Symbol('docker-gateway.parserRejection')
export type RejectedRequest = IncomingMessage & { [kParserRejection]?: ParserRejection }

/** An error of the TLS layer before any HTTP request (ERR_TLS_*, OpenSSL's ERR_SSL_*, which also carry `library`). */
export function isTlsFailure (err: NodeJS.ErrnoException & { library?: string }): boolean {
  return /^ERR_(TLS|SSL)_/.test(err.code ?? '') || err.library !== undefined
}

/** The status and message for a parser error code; Node's own choice of 408/431/400 (lib/_http_server.js socketOnError). */
export function rejectionAnswer (code: string | undefined): { status: number, reason: string, message: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, reason: `http parser: ${code}`, message: 'request headers are too large' }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, reason: 'header deadline', message: 'request headers not received in time' }
  return { status: 400, reason: `http parser: ${code ?? 'parse error'}`, message: `malformed HTTP request (${code ?? 'parse error'})` }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

/**
 * The server's clientError handler: requests Node's HTTP parser cannot read
 * at all (RFC 9112 §6.3: Content-Length together with Transfer-Encoding,
 * bytes after a zero-length body, an oversized head, a bad byte in a header)
 * and heads that missed the header deadline get a 400, 431 or 408 in
 * Docker's shape, then the connection is closed, since nothing more on it
 * can be framed. Nothing was forwarded.
 *
 * Each gets one audit line. When the rejected bytes followed the head of a
 * request that is already being handled (a bad chunked body), that request's
 * own line is the one line: it is marked (kParserRejection) so the audit
 * writer records the 400 the client got instead of the answer it never will.
 */
export function dockerClientErrorHandler (hooks: ClientErrorHooks): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // A reset is the client leaving, not a request; an in-flight request records it itself.
    if (err.code === 'ECONNRESET') return
    if (isTlsFailure(err)) {
      // https.Server hands TLS failures (a handshake timeout, a bad ClientHello) to this handler
      // and destroys the socket only when there is none (lib/https.js tlsClientError): no HTTP
      // was spoken, so no HTTP answer and no request line; the limit log records the timeout.
      socket.destroy()
      return
    }
    const answer = rejectionAnswer(err.code)
    if (answer.status === 408) hooks.headerDeadline?.(socket.remoteAddress)
    // The response Node assigned to this connection, if a request is in flight (private but
    // long-standing: lib/_http_server.js sets socket._httpMessage for the current response).
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined
    const text = dockerErrorResponse(answer.status, STATUS_TEXT[answer.status] ?? '', answer.message)
    let bytesOut = 0
    if (socket.writable && inFlight?.headersSent !== true) {
      socket.end(text)
      bytesOut = Buffer.byteLength(text)
    } else {
      // A response already started: another head in its middle would corrupt it.
      socket.destroy()
    }
    const rejection: ParserRejection = { status: answer.status, reason: answer.reason, ip: socket.remoteAddress, bytesIn: socket.bytesRead, bytesOut }
    const req = inFlight?.req as RejectedRequest | undefined
    if (req !== undefined && inFlight !== undefined && !inFlight.writableFinished) {
      // Cut mid-response: the status already sent is what the client got (part of).
      if (inFlight.headersSent) rejection.status = inFlight.statusCode
      req[kParserRejection] = rejection
      return
    }
    hooks.audit(rejection)
  }
}
