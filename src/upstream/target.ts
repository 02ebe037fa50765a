import { readFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'

/**
 * Where a Docker daemon listens, parsed once at boot from the forms the
 * docker CLI accepts for DOCKER_HOST: tcp://, http://, https:// and unix://.
 */
export interface UpstreamTarget {
  /** The URL as configured, for logs and error messages. */
  readonly url: string
  /** Origin for undici (`http://localhost` for a unix socket). */
  readonly origin: string
  /** Set for unix:// daemons. */
  readonly socketPath?: string
  /** Set for https:// daemons (port 2376 style), verification always on. */
  readonly tls?: UpstreamTlsOptions
}

export interface UpstreamTlsOptions {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  servername?: string
  rejectUnauthorized: true
}

export interface UpstreamTlsFiles {
  ca?: string
  cert?: string
  key?: string
}

export class UpstreamUrlError extends Error {
  override name = 'UpstreamUrlError'
}

/** Parse `tcp://h:p`, `http://h:p`, `https://h:p` or `unix:///path`. */
export function parseUpstream (url: string, files: UpstreamTlsFiles = {}): UpstreamTarget {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UpstreamUrlError(`upstream "${url}" is not a URL (expected tcp://host:port, https://host:port or unix:///path)`)
  }
  switch (parsed.protocol) {
    case 'unix:': {
      const socketPath = decodeURIComponent(parsed.pathname)
      if (socketPath === '' || socketPath === '/') throw new UpstreamUrlError(`upstream "${url}" names no socket path`)
      return { url, origin: 'http://localhost', socketPath }
    }
    case 'tcp:':
    case 'http:': {
      requireHostPort(url, parsed)
      return { url, origin: `http://${parsed.host}` }
    }
    case 'https:': {
      requireHostPort(url, parsed)
      return {
        url,
        origin: `https://${parsed.host}`,
        tls: {
          ca: files.ca !== undefined ? readFileSync(files.ca) : undefined,
          cert: files.cert !== undefined ? readFileSync(files.cert) : undefined,
          key: files.key !== undefined ? readFileSync(files.key) : undefined,
          servername: net.isIP(parsed.hostname) === 0 ? parsed.hostname : undefined,
          rejectUnauthorized: true
        }
      }
    }
    default:
      throw new UpstreamUrlError(`upstream "${url}" has unsupported scheme ${parsed.protocol} (expected tcp, http, https or unix)`)
  }
}

function requireHostPort (url: string, parsed: URL): void {
  if (parsed.hostname === '' || parsed.port === '') {
    throw new UpstreamUrlError(`upstream "${url}" needs a host and a port`)
  }
  if (parsed.pathname !== '' && parsed.pathname !== '/') {
    throw new UpstreamUrlError(`upstream "${url}" must not have a path`)
  }
}

/** Open a raw socket to the daemon; used by the HTTP upgrade (attach/exec) path. */
export function connectRaw (target: UpstreamTarget): net.Socket {
  if (target.socketPath !== undefined) return net.connect({ path: target.socketPath })
  const u = new URL(target.origin)
  const port = Number(u.port)
  const host = u.hostname.replace(/^\[|\]$/g, '')
  if (target.tls !== undefined) return tls.connect({ host, port, ...target.tls })
  return net.connect({ host, port })
}
