'use strict'
/**
 * Performance prototypes, as edits to a COPY of the compiled gateway (dist/),
 * so a change can be measured (bench/ab.js) before anyone writes it in
 * src/. Each edit names the compiled file, an exact anchor and its
 * replacement; make.js fails loudly when an anchor is gone (the source moved
 * on: re-read it and update the prototype).
 *
 * These are measurement prototypes, not the implementation: the TypeScript
 * change each one stands for is described in BENCHMARKS.md (findings).
 */

const patches = {
  'audit-noredact': {
    description: 'The audit logger (src/audit/logger.ts createAudit) without pino redact: its record is a fixed flat object built field by field (auditRecord), none of which carries a credential, while 40 wildcard paths (*.*.*.authorization ...) are walked on every line.',
    edits: [{
      file: 'src/audit/logger.js',
      find: `        timestamp: pino_1.default.stdTimeFunctions.isoTime,
        redact: redact_1.redactOptions
    };`,
      replace: `        timestamp: pino_1.default.stdTimeFunctions.isoTime
    };`
    }]
  },

  'audit-exact-redact': {
    description: 'The audit logger keeps redaction but only for the top-level keys its record could ever carry (no wildcards): same guarantee for the fixed record, without the wildcard walk.',
    edits: [{
      file: 'src/audit/logger.js',
      find: `        timestamp: pino_1.default.stdTimeFunctions.isoTime,
        redact: redact_1.redactOptions
    };`,
      replace: `        timestamp: pino_1.default.stdTimeFunctions.isoTime,
        redact: { paths: ['authorization', 'token', 'secret', 'password', 'Env'], censor: redact_1.redactOptions.censor }
    };`
    }]
  },

  'audit-buffer': {
    description: 'The audit file destination buffers: pino.destination({ minLength: 4096 }) makes one write(2) per ~4 KB of lines instead of one per request (close() already flushSyncs).',
    edits: [{
      file: 'src/audit/logger.js',
      find: `dest = pino_1.default.destination({ dest: destination, mkdir: true, sync: false, mode: 0o640 });`,
      replace: `dest = pino_1.default.destination({ dest: destination, mkdir: true, sync: false, minLength: 4096, mode: 0o640 });`
    }]
  },

  'lazy-child-logger': {
    description: 'fastify childLoggerFactory that builds request.log (pino child, whose bindings go through the 40 wildcard redact paths) only when a request actually logs; most requests never do (the audit line has its own logger).',
    edits: [{
      file: 'src/app.js',
      find: `        logController: new fastify_1.LogController({ disableRequestLogging: true }),`,
      replace: `        logController: new fastify_1.LogController({ disableRequestLogging: true }),
        childLoggerFactory: function lazyChildLogger(logger, bindings, opts) {
            return new LazyChild(logger, bindings, opts);
        },`
    }, {
      file: 'src/app.js',
      find: 'async function buildApp(opts) {',
      replace: `class LazyChild {
    constructor(parent, bindings, opts) { this.parent = parent; this.bindings = bindings; this.opts = opts; this.real = undefined; }
    get logger() { return this.real ??= this.parent.child(this.bindings, this.opts); }
    get level() { return this.real !== undefined ? this.real.level : this.parent.level; }
    set level(l) { this.logger.level = l; }
    isLevelEnabled(l) { return this.parent.isLevelEnabled(l); }
    fatal(...a) { this.logger.fatal(...a); }
    error(...a) { this.logger.error(...a); }
    warn(...a) { if (this.parent.isLevelEnabled('warn')) this.logger.warn(...a); }
    info(...a) { if (this.parent.isLevelEnabled('info')) this.logger.info(...a); }
    debug(...a) { if (this.parent.isLevelEnabled('debug')) this.logger.debug(...a); }
    trace(...a) { if (this.parent.isLevelEnabled('trace')) this.logger.trace(...a); }
    silent() { }
    child(b, o) { return this.logger.child(b, o); }
    bindings() { return this.logger.bindings(); }
    flush(cb) { return this.parent.flush?.(cb); }
}
async function buildApp(opts) {`
    }]
  },

  'stream-hwm': {
    description: 'For streamed responses (export, logs, stats) raise the client socket\'s writable highWaterMark from 16 KiB to 256 KiB: with 64 KiB chunks from the daemon every res.write() returned false, so each chunk cost a pause, a drain event and a resume of the daemon socket.',
    edits: [{
      file: 'src/upstream/forward.js',
      find: `        if (this.opts.flushHeaders)
            this.res.flushHeaders();`,
      replace: `        if (this.opts.flushHeaders) {
            this.res.flushHeaders();
            const ws = this.res.socket?._writableState;
            if (ws !== undefined && ws.highWaterMark < 262144)
                ws.highWaterMark = 262144;
        }`
    }]
  },

  'node-http-stream': {
    description: 'MEASUREMENT ONLY (no timeouts, unix daemons only): relay streamed responses with node:http\'s client (native llhttp, body chunks are slices of the socket read, no copy through wasm memory) instead of undici, to size what the streaming relay costs in undici\'s body path.',
    edits: [{
      file: 'plugins/docker-mirror.js',
      find: `            dispatcher: streaming ? call.host.stream : call.host.short,`,
      replace: `            dispatcher: streaming ? call.host.stream : call.host.short,
            socketPath: call.host.target.socketPath,`
    }, {
      file: 'src/upstream/forward.js',
      find: `function forward(opts) {
    const relay = new ResponseRelay(opts);`,
      replace: `function nodeStream(opts) {
    const res = opts.res;
    const stats = { status: 0, bytesOut: 0, clientAborted: false };
    let finished = false;
    const done = (err) => { if (finished) return; finished = true; if (err !== undefined) stats.error = err; opts.onDone(stats); };
    const req = require('node:http').request({ socketPath: opts.socketPath, path: opts.path, method: opts.method, headers: opts.headers, agent: false });
    const onClose = () => { if (!finished) { stats.clientAborted = true; req.destroy(); done(); } };
    res.once('close', onClose);
    req.on('response', (up) => {
        stats.status = up.statusCode;
        res.writeHead(up.statusCode, up.statusMessage ?? '', responseHeaders(up.headers));
        res.flushHeaders();
        up.on('data', (chunk) => { stats.bytesOut += chunk.length; if (!res.write(chunk)) { up.pause(); res.once('drain', () => up.resume()); } });
        up.on('end', () => { res.removeListener('close', onClose); res.end(); done(); });
        up.on('error', (err) => { res.destroy(err); done(err); });
    });
    req.on('error', (err) => {
        if (finished) return;
        if (!res.headersSent) { const m = (0, errors_1.upstreamError)(err, opts.hostName); stats.status = m.statusCode; sendError(res, m.statusCode, m.message); }
        else res.destroy(err);
        done(err);
    });
    req.end();
}
function forward(opts) {
    if (opts.flushHeaders && opts.socketPath !== undefined && opts.body === undefined) return nodeStream(opts);
    const relay = new ResponseRelay(opts);`
    }]
  },

  'stream-client': {
    description: 'Streams get a fresh undici Client each, destroyed when the stream ends or is aborted, instead of one unbounded Pool: no spurious reconnect after an abort (nodejs/undici#5845), so no idle daemon socket is left per disconnected stream.',
    edits: [{
      file: 'src/upstream/hosts.js',
      find: `    const stream = new undici_1.Pool(target.origin, {
        connections: null,`,
      replace: `    const stream = new PerStreamDispatcher(target.origin, {`
    }, {
      file: 'src/upstream/hosts.js',
      find: 'function openHost(name, host, opts) {',
      replace: `/**
 * One undici Client per stream, destroyed as soon as its stream ends or
 * fails. undici's Client re-queues an aborted in-flight request as pending and
 * opens a replacement connection for it (nodejs/undici#5845); in a Pool that
 * connection then idles without a keep-alive timer until the daemon closes
 * it, which dockerd never does. A destroyed Client cannot reconnect.
 */
class PerStreamDispatcher {
    constructor(origin, opts) {
        this.origin = origin;
        this.opts = opts;
        this.live = new Set();
    }
    dispatch(req, handler) {
        const client = new undici_1.Client(this.origin, this.opts);
        this.live.add(client);
        const done = () => {
            if (this.live.delete(client)) client.destroy().catch(() => { });
        };
        return client.dispatch(req, {
            onRequestStart: (c, ctx) => handler.onRequestStart?.(c, ctx),
            onRequestUpgrade: (c, s, h, sock) => { this.live.delete(client); return handler.onRequestUpgrade?.(c, s, h, sock); },
            onResponseStart: (c, s, h, m) => handler.onResponseStart?.(c, s, h, m),
            onResponseData: (c, d) => handler.onResponseData?.(c, d),
            onResponseEnd: (c, t) => { const r = handler.onResponseEnd?.(c, t); done(); return r; },
            onResponseError: (c, e) => { const r = handler.onResponseError?.(c, e); done(); return r; }
        });
    }
    async close() {
        await Promise.all([...this.live].map((c) => c.close()));
    }
    async destroy() {
        await Promise.all([...this.live].map((c) => c.destroy()));
    }
}
function openHost(name, host, opts) {`
    }]
  }
}

module.exports = { patches }
