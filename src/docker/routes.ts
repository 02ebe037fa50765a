/**
 * The allow-list: every Docker Engine API endpoint the gateway mirrors, with
 * the scope it needs, the query parameters it forwards and how its traffic
 * flows. Anything not in this table is answered 404 "page not found", as
 * dockerd answers unknown paths (daemon/server/server.go, gorilla/mux).
 *
 * Endpoint semantics: ../shared/reference/container-endpoints.md and the
 * Engine API swagger (v1.41, v1.43).
 */

export type Scope = 'containers:read' | 'containers:write' | 'containers:export' | 'containers:exec' | 'images:read' | 'images:pull' | 'admin'

/**
 * How a query parameter is checked before it is forwarded (src/docker/query.ts).
 * - bool: read as dockerd reads it (httputils.BoolValue: "", 0, no, false,
 *   none are false, anything else true) and forwarded as `1` or `0`
 * - off: a bool that may only be false (forwarded as `0`); true is refused
 * - int: an optional minus sign and at most 9 digits (docker-py sends limit=-1)
 * - seconds: a stop/restart grace period, -1 (wait for ever) to 86400
 * - ttySize: a terminal height or width, 0 to 65535 (the kernel's winsize is 16-bit)
 * - psArgs: the small grammar of src/docker/ps-args.ts, forwarded in canonical form
 * - filters, eventFilters, pruneFilters, imageFilters: a JSON filter map whose
 *   names are the ones that endpoint documents (query.ts FILTER_NAMES)
 * - unixTime: `seconds[.fraction]`, the only form /events reads (query.ts)
 * - imageRef: an image name, tag or digest (bounded text; the pull policy parses it)
 * - ociPlatform: a JSON OCI platform ({"os", "architecture", "variant", ...}), re-serialised
 * - refused: any value is refused with a 403 (a capability the gateway does not give, e.g. image import)
 * - containerPath: a path inside a container (docker cp), absolute or relative
 *   to its `/`; bounded, no control characters (query.ts says why no more)
 */
export type ParamKind = 'bool' | 'off' | 'int' | 'seconds' | 'ttySize' | 'filters' | 'eventFilters' | 'pruneFilters' | 'imageFilters' | 'signal' | 'containerName' | 'psArgs' | 'tail' | 'timestamp' | 'unixTime' | 'condition' | 'platform' | 'ociPlatform' | 'detachKeys' | 'imageRef' | 'refused' | 'containerPath'

/**
 * Which body a route accepts. Routes marked 'none' refuse any body: the
 * daemon lets an application/x-www-form-urlencoded body override query
 * parameters (net/http ParseForm), and old API versions read a HostConfig
 * from the body of /start.
 * 'tar' (docker cp into a container) is the one body that is not read by the
 * gateway: it streams to the daemon as it arrives, bounded by
 * limits.archiveUploadBytes (src/upstream/upload.ts).
 */
export type BodyKind = 'none' | 'create' | 'update' | 'exec' | 'execStart' | 'tar'

/**
 * - short: answered at once; finite headers and body timeouts, short-call pool
 * - stream: may stay open for long (follow, stream, wait, stop/restart with their grace period); a daemon connection of its own and one of the principal's stream slots; body timeout off
 * - upgrade: HTTP upgrade to a raw bidirectional stream (attach, exec start)
 */
export type Traffic = 'short' | 'stream' | 'upgrade'

/**
 * What the path parameter names, so ownership can resolve it. An image is
 * daemon-wide (no owner): `:name` is only checked as an image reference and
 * may hold slashes (route-schemas.ts).
 */
export type Target = 'none' | 'container' | 'exec' | 'image'

export interface RouteDef {
  readonly id: string
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE'
  /** Path segments after the optional version prefix; ':id' and ':exec' are parameters. */
  readonly segments: readonly string[]
  readonly scope: Scope
  readonly query: Readonly<Record<string, ParamKind>>
  /** Query parameters that must be present (and not empty): refused with 400 otherwise, as dockerd refuses them. */
  readonly required: readonly string[]
  /**
   * Parameters the Engine API documents for this endpoint that are NOT
   * forwarded, each with the reason. Every documented parameter is either in
   * `query` or here (test/table/security/query-decisions.test.ts checks it against
   * the swagger files of every supported version); parameters no version
   * documents are dropped silently, as dockerd ignores them (SDKs send extras
   * such as docker-py's `trunc_cmd`).
   */
  readonly dropped: Readonly<Record<string, string>>
  readonly body: BodyKind
  readonly traffic: Traffic
  readonly target: Target
  /** The route template, for logs and metrics labels (never carries ids). */
  readonly template: string
  /**
   * Request headers forwarded to the daemon besides user-agent and
   * content-type (lower case). Never logged: credentials among them are in
   * the redaction list (src/audit/redact.ts).
   */
  readonly forwardHeaders: readonly string[]
  /**
   * A policy that judges the query rather than a body (src/docker/vet.ts):
   * 'pull', the image reference of POST /images/create against the image
   * allow-list. Absent: a row with body 'none' has nothing for the policy.
   */
  readonly queryPolicy?: 'pull'
}

type RouteInput = Omit<RouteDef, 'segments' | 'template' | 'target' | 'body' | 'traffic' | 'query' | 'required' | 'dropped' | 'forwardHeaders' | 'queryPolicy'> & {
  path: string
  query?: Record<string, ParamKind>
  required?: string[]
  dropped?: Record<string, string>
  body?: BodyKind
  traffic?: Traffic
  forwardHeaders?: string[]
  queryPolicy?: 'pull'
}

function route (input: RouteInput): RouteDef {
  const segments = input.path.split('/').slice(1)
  const target: Target = segments.includes(':id') ? 'container' : segments.includes(':exec') ? 'exec' : segments.includes(':name') ? 'image' : 'none'
  return {
    id: input.id,
    method: input.method,
    segments,
    scope: input.scope,
    query: input.query ?? {},
    required: input.required ?? [],
    dropped: input.dropped ?? {},
    body: input.body ?? 'none',
    traffic: input.traffic ?? 'short',
    target,
    template: `${input.method} ${input.path}`,
    forwardHeaders: input.forwardHeaders ?? [],
    ...(input.queryPolicy !== undefined ? { queryPolicy: input.queryPolicy } : {})
  }
}

const READ: Scope = 'containers:read'
const WRITE: Scope = 'containers:write'
const EXPORT: Scope = 'containers:export'
const EXEC: Scope = 'containers:exec'
const IMAGES_READ: Scope = 'images:read'
const IMAGES_PULL: Scope = 'images:pull'

const attachQuery: Record<string, ParamKind> = {
  detachKeys: 'detachKeys', logs: 'bool', stream: 'bool', stdin: 'bool', stdout: 'bool', stderr: 'bool'
}

export const routes: readonly RouteDef[] = [
  // Version negotiation: every Docker client pings or asks /version first.
  route({ id: 'ping', method: 'GET', path: '/_ping', scope: READ }),
  route({ id: 'ping', method: 'HEAD', path: '/_ping', scope: READ }),
  route({ id: 'version', method: 'GET', path: '/version', scope: READ }),

  route({ id: 'container.list', method: 'GET', path: '/containers/json', scope: READ, query: { all: 'bool', limit: 'int', size: 'bool', filters: 'filters' } }),
  // Owner-scoped like the list (src/ownership/prune.ts): a non-admin's prune
  // gets the owner label ANDed into its filters. Short: dockerd runs one prune
  // at a time and answers any other at once with 409, so prunes cannot pile
  // up in the short-call pool.
  route({ id: 'container.prune', method: 'POST', path: '/containers/prune', scope: WRITE, query: { filters: 'pruneFilters' } }),
  route({ id: 'container.create', method: 'POST', path: '/containers/create', scope: WRITE, query: { name: 'containerName', platform: 'platform' }, body: 'create' }),
  route({ id: 'container.inspect', method: 'GET', path: '/containers/:id/json', scope: READ, query: { size: 'bool' } }),
  route({ id: 'container.top', method: 'GET', path: '/containers/:id/top', scope: READ, query: { ps_args: 'psArgs' } }),
  route({
    id: 'container.logs', method: 'GET', path: '/containers/:id/logs', scope: READ, traffic: 'stream',
    query: { follow: 'bool', stdout: 'bool', stderr: 'bool', since: 'timestamp', until: 'timestamp', timestamps: 'bool', tail: 'tail' }
  }),
  route({ id: 'container.changes', method: 'GET', path: '/containers/:id/changes', scope: READ }),
  route({ id: 'container.export', method: 'GET', path: '/containers/:id/export', scope: EXPORT, traffic: 'stream' }),
  // docker cp (issue 13 item 3). dockerd resolves `path` inside the
  // container's root filesystem with symlinks scoped to it, and extracts an
  // upload in a chroot of that root (SECURITY.md, "docker cp"). GET streams
  // the tar out; PUT streams it in, unread by the gateway and bounded
  // (limits.archiveUploadBytes); HEAD answers the path's stat in the
  // X-Docker-Container-Path-Stat header, relayed like every daemon header.
  route({ id: 'container.archive', method: 'GET', path: '/containers/:id/archive', scope: EXPORT, traffic: 'stream', query: { path: 'containerPath' }, required: ['path'] }),
  route({ id: 'container.archiveStat', method: 'HEAD', path: '/containers/:id/archive', scope: EXPORT, query: { path: 'containerPath' }, required: ['path'] }),
  route({
    id: 'container.archivePut', method: 'PUT', path: '/containers/:id/archive', scope: WRITE, traffic: 'stream', body: 'tar',
    query: { path: 'containerPath', noOverwriteDirNonDir: 'bool', copyUIDGID: 'bool' }, required: ['path']
  }),
  route({ id: 'container.stats', method: 'GET', path: '/containers/:id/stats', scope: READ, traffic: 'stream', query: { stream: 'bool', 'one-shot': 'bool' } }),
  route({ id: 'container.start', method: 'POST', path: '/containers/:id/start', scope: WRITE, query: { detachKeys: 'detachKeys' } }),
  // stop and restart answer only once the container has stopped, up to `t`
  // seconds later: like a stream they get a daemon connection of their own and
  // hold one of the principal's stream slots, so one principal's slow stops
  // cannot fill the short-call pool every other principal shares.
  route({ id: 'container.stop', method: 'POST', path: '/containers/:id/stop', scope: WRITE, traffic: 'stream', query: { signal: 'signal', t: 'seconds' } }),
  route({ id: 'container.restart', method: 'POST', path: '/containers/:id/restart', scope: WRITE, traffic: 'stream', query: { signal: 'signal', t: 'seconds' } }),
  route({ id: 'container.kill', method: 'POST', path: '/containers/:id/kill', scope: WRITE, query: { signal: 'signal' } }),
  route({ id: 'container.rename', method: 'POST', path: '/containers/:id/rename', scope: WRITE, query: { name: 'containerName' } }),
  route({ id: 'container.pause', method: 'POST', path: '/containers/:id/pause', scope: WRITE }),
  route({ id: 'container.unpause', method: 'POST', path: '/containers/:id/unpause', scope: WRITE }),
  route({ id: 'container.update', method: 'POST', path: '/containers/:id/update', scope: WRITE, body: 'update' }),
  // link=true removes the link named by the path (`/parent/child`) from the
  // PARENT container, which ownership never resolves; the gateway also
  // rewrites the path to a full id, so it could only fail. Dropping it would
  // silently turn "remove a link" into "remove the container": refused instead.
  route({ id: 'container.delete', method: 'DELETE', path: '/containers/:id', scope: WRITE, query: { v: 'bool', force: 'bool', link: 'off' } }),
  // `docker run` (attached) needs wait; the daemon sends headers at once and
  // the body when the condition is met, so it is a stream.
  route({ id: 'container.wait', method: 'POST', path: '/containers/:id/wait', scope: READ, traffic: 'stream', query: { condition: 'condition' } }),
  route({ id: 'container.attach', method: 'POST', path: '/containers/:id/attach', scope: EXEC, traffic: 'upgrade', query: attachQuery }),
  route({ id: 'container.attachWs', method: 'GET', path: '/containers/:id/attach/ws', scope: EXEC, traffic: 'upgrade', query: attachQuery }),
  route({ id: 'container.resize', method: 'POST', path: '/containers/:id/resize', scope: EXEC, query: { h: 'ttySize', w: 'ttySize' } }),
  route({ id: 'exec.create', method: 'POST', path: '/containers/:id/exec', scope: EXEC, body: 'exec' }),
  route({ id: 'exec.start', method: 'POST', path: '/exec/:exec/start', scope: EXEC, traffic: 'upgrade', body: 'execStart' }),
  route({ id: 'exec.inspect', method: 'GET', path: '/exec/:exec/json', scope: EXEC }),
  // docker events: a non-admin gets only its own containers' events (the
  // owner label and type=container, src/ownership/events.ts).
  route({ id: 'events', method: 'GET', path: '/events', scope: READ, traffic: 'stream', query: { since: 'unixTime', until: 'unixTime', filters: 'eventFilters' } }),
  route({ id: 'exec.resize', method: 'POST', path: '/exec/:exec/resize', scope: EXEC, query: { h: 'ttySize', w: 'ttySize' } }),

  // Images are daemon-wide: no owner, every holder of images:read sees them all.
  route({
    id: 'image.list', method: 'GET', path: '/images/json', scope: IMAGES_READ,
    query: { all: 'bool', filters: 'imageFilters', digests: 'bool', 'shared-size': 'bool', manifests: 'bool', identity: 'bool' }
  }),
  route({ id: 'image.inspect', method: 'GET', path: '/images/:name/json', scope: IMAGES_READ, query: { manifests: 'bool', platform: 'ociPlatform' } }),
  // Pull only, of references the image allow-list names (src/policy/image.ts
  // checkPull): the daemon connects to the registry the reference names. The
  // progress stream lasts as long as the download. dockerd reads no body for
  // a pull (a form body would override the query: refused, body 'none').
  route({
    id: 'image.pull', method: 'POST', path: '/images/create', scope: IMAGES_PULL, traffic: 'stream',
    query: { fromImage: 'imageRef', tag: 'imageRef', platform: 'platform', fromSrc: 'refused' },
    dropped: {
      repo: 'import only (names the imported image); dockerd ignores it on a pull, and import is refused',
      message: 'import only (commit message of the imported image); dockerd ignores it on a pull',
      changes: 'import only (Dockerfile instructions applied to the imported image); dockerd ignores it on a pull'
    },
    // The registry credentials the daemon presents to the registry (base64 JSON).
    forwardHeaders: ['x-registry-auth'],
    queryPolicy: 'pull'
  })
]
