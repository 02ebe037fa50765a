import t from 'tap'
import { requireDaemon } from '../../helpers/env'
import { waitFor, sleep } from '../../helpers/wait'
import { talk } from '../../helpers/security/raw-http'
import { startWatchedGateway } from '../../helpers/security/gateway-app'

/**
 * Issue 10 finding 10: requests Node's HTTP parser rejects got their 400 or
 * 431 (src/client-error.ts) but no audit line, though the gateway promises
 * one per request. Each malformed form below, sent on its own connection to
 * the real app, must leave exactly one audit line: the status the client
 * got, the parser's reason, the client's address, the bytes, decision deny,
 * no principal. When the bad bytes follow a request head the app is already
 * handling (a bad chunked body), that request's line is the one line, and it
 * records the rejection the client got, not the 401 it never received.
 */
const d = requireDaemon(t)

const forms: Array<{ name: string, bytes: string, status: number, reason: RegExp, path?: string }> = [
  {
    name: 'Content-Length with Transfer-Encoding (RFC 9112 §6.3)',
    bytes: 'POST /containers/create HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    status: 400,
    reason: /^http parser: HPE_(INVALID_TRANSFER_ENCODING|UNEXPECTED_CONTENT_LENGTH)$/
  },
  {
    name: 'a control byte in a header value',
    bytes: 'GET /containers/json HTTP/1.1\r\nHost: gw\r\nX-Bad: a\x01b\r\n\r\n',
    status: 400,
    reason: /^http parser: HPE_INVALID_HEADER_TOKEN$/
  },
  {
    name: 'a space before the colon of a header name',
    bytes: 'GET /containers/json HTTP/1.1\r\nHost: gw\r\nAuthorization : Bearer x\r\n\r\n',
    status: 400,
    reason: /^http parser: HPE_INVALID_HEADER_TOKEN$/
  },
  {
    name: 'a head larger than 16 KiB',
    bytes: `GET /containers/json HTTP/1.1\r\nHost: gw\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    status: 431,
    reason: /^http parser: HPE_HEADER_OVERFLOW$/
  },
  {
    name: 'bytes after the zero-length chunk',
    bytes: 'POST /containers/create HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nXYZ',
    status: 400,
    reason: /^http parser: HPE_INVALID_METHOD$/,
    path: '/containers/create'
  },
  {
    name: 'a bad trailer after the zero-length chunk',
    bytes: 'POST /containers/create HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX\r\n\r\n',
    status: 400,
    reason: /^http parser: HPE_INVALID_HEADER_TOKEN$/,
    path: '/containers/create'
  },
  {
    name: 'a chunk size that is not hex',
    bytes: 'POST /containers/create HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n',
    status: 400,
    reason: /^http parser: HPE_INVALID_CHUNK_SIZE$/,
    path: '/containers/create'
  }
]

if (d !== undefined) {
  t.test('every request the parser rejects has exactly one audit line', async t => {
    const gw = await startWatchedGateway(t, { GATEWAY_UPSTREAM: d.url })
    for (const form of forms) {
      const before = gw.audit().length
      const answer = await talk(gw.port, [form.bytes], 5000)
      t.equal(answer.status, form.status, `${form.name}: the client gets ${form.status}`)
      t.equal(answer.responses, 1, `${form.name}: and one response only`)
      t.ok(answer.closed, `${form.name}: then the connection is closed`)
      t.match(JSON.parse(answer.body), { message: String }, `${form.name}: in Docker's shape`)
      // A line is written when the connection closes; give a stray second one time to show.
      await waitFor(() => gw.audit().length > before, 2000)
      await sleep(200)
      const lines = gw.audit().slice(before)
      t.equal(lines.length, 1, `${form.name}: exactly one audit line`)
      const line = lines[0] ?? {}
      t.match(line, { log: 'audit', status: form.status, reason: form.reason, decision: 'deny', ip: '127.0.0.1', msg: 'request' }, `${form.name}: status, reason, address, decision`)
      t.equal(line.principal, undefined, `${form.name}: no principal`)
      t.equal(line.bytesOut, Buffer.byteLength(answer.text, 'latin1'), `${form.name}: bytesOut is what the client received`)
      t.ok(typeof line.bytesIn === 'number' && line.bytesIn > 0 && line.bytesIn <= Buffer.byteLength(form.bytes, 'latin1'), `${form.name}: bytesIn counts the bytes read`)
      if (form.path !== undefined) t.match(line, { method: 'POST', path: form.path }, `${form.name}: the request whose body was bad is named`)
    }
  })

  t.test('a rejection after a finished request on the same connection is a line of its own', async t => {
    const gw = await startWatchedGateway(t, { GATEWAY_UPSTREAM: d.url })
    const before = gw.audit().length
    const answer = await talk(gw.port, ['GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n', 300, 'GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Bad: \x7f\x01\r\n\r\n'], 5000)
    t.match(answer.text, /^HTTP\/1\.1 200 [^]*HTTP\/1\.1 400 Bad Request[^]*$/, 'the health answer, then the 400')
    t.equal(answer.text.match(/HTTP\/1\.1 \d{3} /g)?.length, 2, 'two responses')
    await waitFor(() => gw.audit().length >= before + 2, 2000)
    await sleep(200)
    const lines = gw.audit().slice(before)
    t.equal(lines.length, 2, 'two audit lines')
    t.match(lines[0], { path: '/healthz', status: 200, decision: 'allow' })
    t.match(lines[1], { status: 400, reason: 'http parser: HPE_INVALID_HEADER_TOKEN', decision: 'deny' })
  })
}
