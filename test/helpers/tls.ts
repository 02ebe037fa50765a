// HTTPS gateways for client tests: a throwaway CA (test/helpers/auth/pki.ts)
// whose files are laid out the way real clients look for them, and a gateway
// serving the CA-signed certificate through the same builder the CLI uses
// (src/tls/material.ts httpsServerOptions).
//
//   const ca = await makeTestCa(t)                       // ca.pem, cert.pem, key.pem in ca.dir
//   const gw = await startHttpsGateway(t, ca, { GATEWAY_UPSTREAM: d.url })   // any { serverCert, serverKey }
//   // gw.url = https://127.0.0.1:PORT, gw.host = tcp://127.0.0.1:PORT (DOCKER_HOST)
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app'
import { loadConfig } from '../../src/config/load'
import type { Config } from '../../src/config/schema'
import { httpsServerOptions, readTlsFiles } from '../../src/tls/material'
import { clientCert, makeCa, serverCert } from './auth/pki'
import { mintToken, TEST_SECRET } from './gateway'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface TestCa {
  /** Holds ca.pem, cert.pem and key.pem: the names DOCKER_CERT_PATH and docker-py's tls look for. */
  dir: string
  /** The CA certificate (PEM file) that signed the server and client certificates. */
  ca: string
  /** A client certificate and key signed by the CA (for mutual TLS; unused by a `tlsClientAuth: none` gateway). */
  clientCert: string
  clientKey: string
  /** The gateway's certificate (SAN IP:127.0.0.1, DNS:localhost) and key. */
  serverCert: string
  serverKey: string
  /** A directory holding only ca.pem: the least a client needs to verify the gateway. */
  caOnlyDir: string
  /** PEM text of the CA certificate. */
  caPem: string
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, written to a temp dir removed at teardown. */
export async function makeTestCa (t: Teardown): Promise<TestCa> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dgw-clients-tls-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const ca = await makeCa('dgw clients test CA')
  const server = await serverCert(ca, 'docker-gateway', ['127.0.0.1', 'localhost'])
  const client = await clientCert(ca, 'dgw-client')
  const f = (name: string): string => path.join(dir, name)
  await writeFile(f('ca.pem'), ca.cert)
  await writeFile(f('cert.pem'), client.cert)
  await writeFile(f('key.pem'), client.key, { mode: 0o600 })
  await writeFile(f('server-cert.pem'), server.cert)
  await writeFile(f('server-key.pem'), server.key, { mode: 0o600 })
  const caOnlyDir = path.join(dir, 'ca-only')
  await mkdir(caOnlyDir)
  await writeFile(path.join(caOnlyDir, 'ca.pem'), ca.cert)
  return {
    dir,
    ca: f('ca.pem'),
    clientCert: f('cert.pem'),
    clientKey: f('key.pem'),
    serverCert: f('server-cert.pem'),
    serverKey: f('server-key.pem'),
    caOnlyDir,
    caPem: ca.cert
  }
}

export interface HttpsGateway {
  app: FastifyInstance
  /** https://127.0.0.1:PORT */
  url: string
  /** tcp://127.0.0.1:PORT, for DOCKER_HOST */
  host: string
  port: number
  config: Config
  /** Mint an HS256 token for this gateway. */
  token: (claims?: { sub?: string, scope?: string, hosts?: string[], ttlSec?: number }) => string
}

/**
 * A full gateway (buildApp) on https://127.0.0.1:0 serving `tls`'s server
 * certificate (a TestCa's, or e.g. the CLI's self-signed one), HS256 tokens
 * as in startGateway, closed at teardown.
 */
export async function startHttpsGateway (t: Teardown, tls: { serverCert: string, serverKey: string }, env: Record<string, string> = {}): Promise<HttpsGateway> {
  const config = loadConfig({
    GATEWAY_TLS: 'on',
    GATEWAY_TLS_CERT: tls.serverCert,
    GATEWAY_TLS_KEY: tls.serverKey,
    GATEWAY_LOG_LEVEL: 'silent',
    GATEWAY_LISTEN: '127.0.0.1:0',
    ...env
  })
  const https = httpsServerOptions(readTlsFiles({ cert: tls.serverCert, key: tls.serverKey }), config.tlsClientAuth)
  const app = await buildApp({ config, jwtSecret: TEST_SECRET, https })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { app, url: `https://127.0.0.1:${port}`, host: `tcp://127.0.0.1:${port}`, port, config, token: (c) => mintToken(TEST_SECRET, c) }
}
