import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { parse } from 'yaml'

/**
 * Images cannot be pulled or built here, so the deployment files are checked
 * statically: the compose file is valid for docker-compose and everything it
 * and the Dockerfile reference exists in the repository.
 */
const root = join(__dirname, '..', '..', '..')

t.test('docker-compose.yml is valid', async t => {
  const compose = join(root, 'docker-compose.yml')
  try {
    const { stdout } = await promisify(execFile)('docker-compose', ['-f', compose, 'config', '--quiet'], { cwd: root })
    t.equal(stdout, '', 'docker-compose config accepts it')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (process.env.CI === 'true') throw new Error('docker-compose is not installed; .ci/run installs it')
      t.comment('docker-compose not installed: checking the YAML structure only')
    } else throw err
  }
  const doc = parse(readFileSync(compose, 'utf8')) as { services: Record<string, { build?: { context: string, dockerfile: string }, volumes?: string[] }> }
  t.ok(doc.services.gateway, 'has a gateway service')
  t.ok(doc.services.redis, 'has a redis service for shared rate limits')
  const build = doc.services.gateway?.build
  t.ok(build !== undefined && existsSync(join(root, build.context, build.dockerfile)), 'its Dockerfile exists')
  for (const v of doc.services.gateway?.volumes ?? []) {
    const src = v.split(':')[0] as string
    if (src.startsWith('./')) t.ok(existsSync(join(root, src)), `mounted ${src} exists`)
  }
})

t.test('every COPY source of the Dockerfile exists, and the image runs as non-root with a health check', async t => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8')
  const stages = [...text.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map(m => m[1])
  t.ok(stages.length >= 2, 'multi-stage')
  for (const m of text.matchAll(/^COPY\s+(?!--from)(.+)$/gim)) {
    const parts = (m[1] as string).trim().split(/\s+/)
    for (const src of parts.slice(0, -1)) t.ok(existsSync(join(root, src)), `COPY ${src} exists`)
  }
  t.match(text, /^USER\s+node$/m, 'runs as the unprivileged node user')
  t.match(text, /npm ci --omit=dev/, 'production dependencies only')
  t.match(text, /^HEALTHCHECK .*\n.*\/healthz/m, 'health check on /healthz')
  t.match(text, /ENTRYPOINT \["node", "dist\/src\/cli\.js"\]/, 'starts the compiled CLI')
})

t.test('compose keeps the gateway and its signing secret out of other processes\' reach (issue 10)', async t => {
  interface Service {
    pid?: string
    privileged?: boolean
    environment?: Record<string, string> | string[]
    env_file?: unknown
    secrets?: Array<string | { source: string, target?: string }>
    cap_add?: string[]
  }
  const doc = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>, secrets?: Record<string, { file?: string, environment?: string }> }
  for (const [name, service] of Object.entries(doc.services)) {
    // pid: host would share the host's PID namespace (every process's /proc/<pid>/environ);
    // compose's default, no `pid` key, is a namespace of the container's own.
    t.equal(service.pid, undefined, `${name}: no pid: key (its own PID namespace)`)
    t.not(service.privileged, true, `${name}: not privileged`)
    t.notOk((service.cap_add ?? []).some(c => /SYS_PTRACE|SYS_ADMIN|ALL/i.test(c)), `${name}: no capability to read other processes`)
  }
  const gateway = doc.services.gateway as Service
  const env = Array.isArray(gateway.environment)
    ? Object.fromEntries(gateway.environment.map(e => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]))
    : gateway.environment ?? {}
  t.notOk('GATEWAY_JWT_SECRET' in env, 'the signing secret is not an environment variable')
  t.equal(gateway.env_file, undefined, 'nor comes from an env_file')
  t.equal(env.GATEWAY_JWT_SECRET_FILE, '/run/secrets/jwt_secret', 'it is read from the compose secret\'s file')
  t.ok((gateway.secrets ?? []).some(s => (typeof s === 'string' ? s : s.source) === 'jwt_secret'), 'the gateway is given the jwt_secret secret')
  t.ok(doc.secrets?.jwt_secret?.file !== undefined && doc.secrets.jwt_secret.environment === undefined, 'the secret comes from a file, not from the environment of compose')
  const config = readFileSync(join(root, 'deploy', 'gateway.yaml'), 'utf8')
  t.notMatch(config, /^\s*jwtSecret\s*:/m, 'and not from the mounted config file either')
})
