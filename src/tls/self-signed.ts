import { X509Certificate } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { hostname as osHostname } from 'node:os'
import { isIP } from 'node:net'
import { join } from 'node:path'
import selfsigned from 'selfsigned'
import { fingerprint256 } from './material'

/**
 * The embedded default is HTTPS even with nothing configured: on first
 * start a self-signed certificate for this machine's names is written to
 * the data folder, and its SHA-256 fingerprint is printed so a client can
 * pin or check it. It is renewed at start when it nears its end or no
 * longer names this host.
 */

export interface SelfSigned {
  certFile: string
  keyFile: string
  fingerprint: string
  created: boolean
  notAfter: string
}

const VALID_DAYS = 365
const RENEW_BEFORE_MS = 30 * 86_400_000

export function defaultNames (host: string = osHostname()): string[] {
  const names = ['localhost', '127.0.0.1', '::1']
  if (host !== '' && !names.includes(host)) names.push(host)
  return names
}

function covers (cert: X509Certificate, names: readonly string[], now: number): boolean {
  if (Date.parse(cert.validTo) - now < RENEW_BEFORE_MS) return false
  return names.every(n => isIP(n) !== 0 ? cert.checkIP(n) !== undefined : cert.checkHost(n) !== undefined)
}

export async function ensureSelfSigned (dataDir: string, opts: { names?: string[], now?: number } = {}): Promise<SelfSigned> {
  const names = opts.names ?? defaultNames()
  const now = opts.now ?? Date.now()
  const dir = join(dataDir, 'tls')
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  try {
    const pem = readFileSync(certFile)
    readFileSync(keyFile)
    const cert = new X509Certificate(pem)
    if (covers(cert, names, now)) return { certFile, keyFile, fingerprint: fingerprint256(pem), created: false, notAfter: cert.validTo }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const notBeforeDate = new Date(now - 60_000)
  const generated = await selfsigned.generate([{ name: 'commonName', value: 'docker-gateway' }, { name: 'organizationName', value: 'docker-gateway (self-signed)' }], {
    // RSA 2048 rather than EC: Windows PowerShell 5.1 on older builds handles it everywhere.
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALID_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map(n => isIP(n) !== 0 ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }) }
    ]
  })
  // Write both beside and rename: a reader never sees a key without its certificate.
  writeFileSync(`${keyFile}.new`, generated.private, { mode: 0o600 })
  chmodSync(`${keyFile}.new`, 0o600)
  writeFileSync(`${certFile}.new`, generated.cert, { mode: 0o644 })
  renameSync(`${keyFile}.new`, keyFile)
  renameSync(`${certFile}.new`, certFile)
  return { certFile, keyFile, fingerprint: fingerprint256(generated.cert), created: true, notAfter: new X509Certificate(generated.cert).validTo }
}
