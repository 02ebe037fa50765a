import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { lazyChildLoggerFactory } from '../../../src/audit/request-logger'

/** A pino parent at `level`, its output, and how many children it built. */
function parentAt (level: string): { parent: FastifyBaseLogger, lines: () => Array<Record<string, unknown>>, children: () => number } {
  const out: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, cb) { out.push(chunk.toString()); cb() } })
  const parent = pino({ level }, stream)
  let built = 0
  // pino children inherit from their parent's object: keep `this`, count only the parent's own children.
  const child = parent.child
  parent.child = function (this: typeof parent, ...args: Parameters<typeof child>) {
    if (this === parent) built++
    return child.apply(this, args)
  } as typeof child
  return {
    parent: parent as unknown as FastifyBaseLogger,
    lines: () => out.join('').split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>),
    children: () => built
  }
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const

// Parent at `warn`: a line is written, and the child built, exactly for the enabled levels.
const cases: Array<{ level: typeof LEVELS[number], written: boolean }> = [
  { level: 'fatal', written: true },
  { level: 'error', written: true },
  { level: 'warn', written: true },
  { level: 'info', written: false },
  { level: 'debug', written: false },
  { level: 'trace', written: false }
]
for (const { level, written } of cases) {
  t.test(`${level} on a warn parent: ${written ? 'written, with the request binding' : 'dropped, no child built'}`, async t => {
    const p = parentAt('warn')
    const log = lazyChildLoggerFactory(p.parent, { reqId: 'req-1' }, {})
    log[level]({ host: 'a' }, 'something')
    t.equal(p.children(), written ? 1 : 0)
    t.same(p.lines().map(l => [l.reqId, l.host, l.msg]), written ? [['req-1', 'a', 'something']] : [])
  })
}

t.test('a request that logs nothing builds no child', async t => {
  const p = parentAt('info')
  const log = lazyChildLoggerFactory(p.parent, { reqId: 'req-2' }, {})
  t.equal(log.level, 'info', 'the level is read from the parent')
  t.equal(p.children(), 0)
  t.same(p.lines(), [])
})

t.test('the child is built once, however many lines follow', async t => {
  const p = parentAt('info')
  const log = lazyChildLoggerFactory(p.parent, { reqId: 'req-3' }, {})
  log.info('one')
  log.error(new Error('two'))
  t.equal(p.children(), 1)
  t.same(p.lines().map(l => [l.reqId, l.msg]), [['req-3', 'one'], ['req-3', 'two']])
})

t.test('child() keeps the request binding and adds its own', async t => {
  const p = parentAt('info')
  const log = lazyChildLoggerFactory(p.parent, { reqId: 'req-4' }, {})
  log.child({ host: 'b' }).info('from the grandchild')
  t.match(p.lines(), [{ reqId: 'req-4', host: 'b', msg: 'from the grandchild' }])
})

t.test('setting the level builds the child and applies to it only', async t => {
  const p = parentAt('warn')
  const log = lazyChildLoggerFactory(p.parent, { reqId: 'req-5' }, {})
  log.level = 'debug'
  log.debug('now visible')
  t.equal(log.level, 'debug')
  t.equal(p.parent.level, 'warn', 'the parent is unchanged')
  t.match(p.lines(), [{ reqId: 'req-5', msg: 'now visible' }])
})

t.test("a route's own logLevel gets a real child at once", async t => {
  const p = parentAt('warn')
  const log = lazyChildLoggerFactory(p.parent, { reqId: 'req-6' }, { level: 'debug' })
  t.equal(p.children(), 1)
  log.debug('route-level debug')
  t.match(p.lines(), [{ reqId: 'req-6', msg: 'route-level debug' }])
})

t.test('silent() writes nothing', async t => {
  const p = parentAt('trace')
  lazyChildLoggerFactory(p.parent, { reqId: 'req-7' }, {}).silent('nothing')
  t.same(p.lines(), [])
})
