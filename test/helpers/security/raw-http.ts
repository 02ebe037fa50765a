// A raw HTTP/1.1 client for the security tests: exact bytes out, every byte
// back, so smuggling, upgrades and refusals can be asserted on the wire.
// Not a test file (.taprc runs *.test.ts only).
import net from 'node:net'

export interface RawAnswer {
  /** everything the server sent, latin1 */
  text: string
  /** the first response: status, head (status line + headers) and the bytes after the head */
  status: number
  head: string
  body: string
  /** how many HTTP responses (status lines at the start of a response) were seen */
  responses: number
  /** the server closed the connection (as opposed to the client timing out) */
  closed: boolean
}

export function parseAnswer (text: string, closed: boolean): RawAnswer {
  const end = text.indexOf('\r\n\r\n')
  const head = end >= 0 ? text.slice(0, end) : text
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
  let body = end >= 0 ? text.slice(end + 4) : ''
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1]
  if (length !== undefined) body = body.slice(0, Number(length))
  else if (/\r\ntransfer-encoding: *chunked/i.test(head)) body = dechunk(body)
  const responses = (text.match(/(^|\r\n)HTTP\/1\.[01] \d{3} /g) ?? []).length
  return { text, status, head, body, responses, closed }
}

/** The payload of a chunked body (RFC 9112 §7.1), as far as it arrived. */
function dechunk (raw: string): string {
  let out = ''
  let at = 0
  for (;;) {
    const eol = raw.indexOf('\r\n', at)
    if (eol < 0) return out
    const size = parseInt(raw.slice(at, eol), 16)
    if (!Number.isFinite(size) || size === 0) return out
    out += raw.slice(eol + 2, eol + 2 + size)
    at = eol + 2 + size + 2
  }
}

/**
 * Connect, write each step (a string or Buffer; a number pauses that many ms;
 * '<END>' half-closes), then read until the server closes or `waitMs` passes.
 */
export async function talk (port: number, steps: Array<string | Buffer | number>, waitMs = 10_000): Promise<RawAnswer> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  let text = ''
  let closed = false
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1') })
  socket.on('error', () => {})
  const done = new Promise<void>((resolve) => socket.on('close', () => { closed = true; resolve() }))
  socket.on('end', () => { socket.end() })
  await new Promise((resolve) => socket.on('connect', resolve))
  for (const step of steps) {
    if (typeof step === 'number') await new Promise((resolve) => setTimeout(resolve, step))
    else if (step === '<END>') socket.end()
    else socket.write(step)
  }
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; socket.destroy() }, waitMs)
  await done
  clearTimeout(timer)
  return parseAnswer(text, closed && !timedOut)
}

/** A request head (CRLF-terminated, blank line included) with the given headers. */
export function requestHead (method: string, path: string, headers: Record<string, string | number>): string {
  let h = `${method} ${path} HTTP/1.1\r\nHost: gw\r\n`
  for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`
  return h + '\r\n'
}
