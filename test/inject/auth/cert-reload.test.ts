// Certificates reload without a restart: reload() (what SIGHUP calls) and the
// file watch hand new files to server.setSecureContext(); new connections see
// the new certificate; a broken set keeps the old one in force.
import t from 'tap'
import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { httpsServerOptions, readTlsFiles } from '../../../src/tls/material'
import { CertificateReloader } from '../../../src/tls/reload'
import { startAuthGateway } from '../../helpers/auth/gateway'
import { makeCa, serverCert, writePem } from '../../helpers/auth/pki'
import { waitFor } from '../../helpers/wait'
import { servedFingerprint } from '../../helpers/auth/tls-probe'


const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256

t.test('reload picks up a new certificate; a broken one is ignored', async t => {
  const ca = await makeCa()
  const a = await serverCert(ca, 'gateway-a')
  const b = await serverCert(ca, 'gateway-b')
  const c = await serverCert(ca, 'gateway-c')
  const files = writePem({ 'gw.crt': a.cert, 'gw.key': a.key })
  const tlsFiles = { cert: files['gw.crt'] as string, key: files['gw.key'] as string }
  const gw = await startAuthGateway(t, { https: httpsServerOptions(readTlsFiles(tlsFiles), 'none') })
  const logged: string[] = []
  const log = { info: (_o: object, m: string) => { logged.push(m) }, error: (_o: object, m: string) => { logged.push(m) } }
  const reloader = new CertificateReloader(gw.app.server as unknown as tls.Server, tlsFiles, log)
  t.teardown(() => { reloader.close() })

  t.equal(await servedFingerprint(gw.port, ca.cert), fingerprint(a.cert), 'serves A')

  writeFileSync(tlsFiles.cert, b.cert)
  writeFileSync(tlsFiles.key, b.key)
  t.equal(reloader.reload(), true)
  t.equal(await servedFingerprint(gw.port, ca.cert), fingerprint(b.cert), 'reload(): serves B')

  // Half-written: B's key with C's certificate. Refused; B stays.
  writeFileSync(tlsFiles.cert, c.cert)
  t.equal(reloader.reload(), false, 'a key that does not fit the certificate is refused')
  t.equal(await servedFingerprint(gw.port, ca.cert), fingerprint(b.cert), 'still B')
  t.match(logged.at(-1), /reload failed; keeping the current certificate/)

  // The file watch: once C's key lands too, C is served without anyone calling reload().
  reloader.watch(100, 50)
  writeFileSync(tlsFiles.key, c.key)
  writeFileSync(tlsFiles.cert, c.cert)
  await waitFor(async () => await servedFingerprint(gw.port, ca.cert) === fingerprint(c.cert), 10_000, 100)
  t.pass('file watch: serves C')
})
