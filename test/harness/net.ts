import net from 'node:net'

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. The kernel picks it
 * (port 0), so concurrent callers do not collide; someone else may still grab
 * it before it is used, which the callers accept.
 */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => {
        if (addr && typeof addr === 'object') resolve(addr.port)
        else reject(new Error('no port'))
      })
    })
  })
}

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/**
 * Poll `fn` until it returns a truthy value (which is returned) or stops
 * throwing; after `timeoutMs`, throw with the last error or value seen.
 */
export async function waitFor<T> (fn: () => T | Promise<T>, timeoutMs = 5000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v as NonNullable<T>
      last = v
    } catch (err) {
      last = err
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last)
      const err = new Error(`waitFor: condition not met within ${timeoutMs} ms (last: ${detail})`)
      if (last instanceof Error) err.cause = last
      throw err
    }
    await sleep(intervalMs)
  }
}
