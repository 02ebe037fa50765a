import { unwatchFile, watchFile, type Stats } from 'node:fs'
import type { SecureContextOptions } from 'node:tls'
import { readTlsFiles, secureContextOptions, fingerprint256, type TlsFiles } from './material'

/**
 * Certificates are replaced without a restart: on SIGHUP (wired by the CLI)
 * or when a file changes, the files are read again and handed to
 * `server.setSecureContext()`. New handshakes use the new certificate;
 * established connections keep theirs. A broken set (unreadable, key not
 * matching the certificate, half-written) is logged and ignored: the
 * running certificate stays in force rather than the gateway going dark.
 *
 * Files are polled (fs.watchFile) rather than watched with fs.watch:
 * certificate tools and Kubernetes secret mounts replace files by rename or
 * symlink swap, which an inotify watch on the old inode never sees.
 */

export interface SecureContextTarget {
  setSecureContext: (options: SecureContextOptions) => void
}

export interface ReloadLogger {
  info: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export class CertificateReloader {
  private readonly server: SecureContextTarget
  private readonly files: TlsFiles
  private readonly log: ReloadLogger
  private watching = false
  private timer: NodeJS.Timeout | undefined
  fingerprint: string | undefined

  constructor (server: SecureContextTarget, files: TlsFiles, log: ReloadLogger) {
    this.server = server
    this.files = files
    this.log = log
  }

  /** Read the files again and install them; false (and the old context kept) when they are not usable. */
  reload (): boolean {
    try {
      const material = readTlsFiles(this.files)
      const options = secureContextOptions(material)
      this.server.setSecureContext(options)
      const fingerprint = fingerprint256(material.cert)
      this.log.info({ cert: this.files.cert, fingerprint, changed: fingerprint !== this.fingerprint }, 'TLS certificate reloaded')
      this.fingerprint = fingerprint
      return true
    } catch (err) {
      this.log.error({ err: { message: (err as Error).message }, cert: this.files.cert }, 'TLS certificate reload failed; keeping the current certificate')
      return false
    }
  }

  /** Poll the files every `intervalMs`; changes within `settleMs` of each other reload once. */
  watch (intervalMs = 2000, settleMs = 250): void {
    if (this.watching) return
    this.watching = true
    for (const file of this.paths()) {
      watchFile(file, { interval: intervalMs, persistent: false }, this.onChange)
    }
    this.settleMs = settleMs
  }

  private settleMs = 250

  private readonly onChange = (cur: Stats, prev: Stats): void => {
    if (cur.mtimeMs === prev.mtimeMs && cur.ino === prev.ino && cur.size === prev.size) return
    // A renewal writes cert and key one after the other: wait for both.
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.timer = undefined; this.reload() }, this.settleMs)
    this.timer.unref()
  }

  private paths (): string[] {
    return [this.files.cert, this.files.key, ...(this.files.ca !== undefined ? [this.files.ca] : [])]
  }

  close (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (!this.watching) return
    this.watching = false
    for (const file of this.paths()) unwatchFile(file, this.onChange)
  }
}
