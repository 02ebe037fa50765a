import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import { ConfigError } from '../config/load'
import type { Config } from '../config/schema'

/**
 * The gateway's own TLS: certificate and key files (configured or
 * generated), an optional CA for client certificates, and the server
 * options built from them. The same builder serves the first start and
 * every reload, so a reload can never drop a setting.
 */

export interface TlsFiles {
  cert: string
  key: string
  ca?: string
}

export type ClientAuth = Config['tlsClientAuth']

export interface TlsMaterial {
  cert: Buffer
  key: Buffer
  ca?: Buffer
}

export function readTlsFiles (files: TlsFiles): TlsMaterial {
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file)
    } catch (err) {
      throw new ConfigError(`TLS ${what} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  const material: TlsMaterial = { cert: read('certificate', files.cert), key: read('key', files.key) }
  if (files.ca !== undefined) material.ca = read('CA', files.ca)
  return material
}

/**
 * Context options: TLS 1.2 at least (RFC 8996 retired 1.0 and 1.1); Node's
 * default cipher list otherwise. Building the context here checks that the
 * key fits the certificate before any server sees them.
 */
export function secureContextOptions (material: TlsMaterial): SecureContextOptions {
  const options: SecureContextOptions = { cert: material.cert, key: material.key, minVersion: 'TLSv1.2' }
  if (material.ca !== undefined) options.ca = material.ca
  try {
    createSecureContext(options)
  } catch (err) {
    throw new ConfigError(`TLS material is not usable: ${(err as Error).message}`)
  }
  return options
}

/**
 * `require`: the handshake fails without a certificate signed by the CA.
 * `optional`: a certificate is asked for; one that does not verify is not
 * refused at the handshake but never counts as a principal
 * (plugins/auth.ts reads `socket.authorized`).
 */
export function httpsServerOptions (material: TlsMaterial, clientAuth: ClientAuth): HttpsServerOptions {
  const options: HttpsServerOptions = { ...secureContextOptions(material) }
  if (clientAuth !== 'none') {
    options.requestCert = true
    options.rejectUnauthorized = clientAuth === 'require'
  }
  return options
}

/** The SHA-256 fingerprint as browsers and `openssl x509 -fingerprint -sha256` print it. */
export function fingerprint256 (certPem: string | Buffer): string {
  return new X509Certificate(certPem).fingerprint256
}

/** TLS settings that only make sense together. */
export function checkTlsConfig (config: Config): void {
  if (config.tls === 'off') {
    if (config.tlsClientAuth !== 'none') throw new ConfigError('invalid configuration: tlsClientAuth needs tls on (GATEWAY_TLS is off)')
    if (config.tlsNames !== undefined) throw new ConfigError('invalid configuration: tlsNames names the self-signed certificate, and TLS is off (GATEWAY_TLS)')
    return
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError('invalid configuration: tlsCert and tlsKey go together (GATEWAY_TLS_CERT, GATEWAY_TLS_KEY)')
  }
  if (config.tlsCert !== undefined && config.tlsNames !== undefined) {
    throw new ConfigError('invalid configuration: tlsNames names the self-signed certificate; with tlsCert set, put the names in that certificate (GATEWAY_TLS_NAMES, GATEWAY_TLS_CERT)')
  }
  if (config.tlsClientAuth !== 'none' && config.tlsCa === undefined) {
    throw new ConfigError('invalid configuration: tlsClientAuth needs tlsCa, the CA that signs client certificates (GATEWAY_TLS_CA)')
  }
  if (config.clientCertificates !== undefined && config.tlsClientAuth === 'none') {
    throw new ConfigError('invalid configuration: clientCertificates needs tlsClientAuth optional or require (GATEWAY_TLS_CLIENT_AUTH)')
  }
}
