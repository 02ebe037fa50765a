/**
 * The names a gateway path may carry, as the daemon and the config validate them.
 */

/** A host name as in the config file's `hosts:` keys (RFC 1123 label, lower case). */
export const HOST_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/
/** The fleet pseudo-host `_all` that fans a list out to every host. */
export const ALL_HOSTS = '_all'
/**
 * Container reference: a name as the daemon validates names
 * (daemon/names.go `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`, without the slash in a
 * path segment) or an id or id prefix, which is hex and matches too.
 */
export const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/
/** Exec ids are 64 hex characters (daemon/exec.go uses stringid.GenerateRandomID). */
export const EXEC_ID = /^[a-f0-9]{64}$/
