import type { Filters } from '../docker/query'
import type { Caller } from './authorize'
import { scopeListFilters } from './rules'

/**
 * `GET /events` for a non-admin: only its own containers' events.
 *
 * dockerd decides each event in memory (daemon/events/filter.go Include):
 * different filter names are ANDed, the values of one name are ORed, except
 * `label`, whose values must ALL match the event's attributes (MatchKVList).
 * A container event's attributes are the container's labels plus its name and
 * image, so ANDing `<ownerLabel>=<principal>` into `label` keeps exactly the
 * caller's containers, whatever else it asks: a `container` filter naming
 * another principal's container matches nothing (the daemon never looks the
 * name up, so nothing about it shows, not even its existence).
 *
 * Other event types carry other attributes: an image's events carry the
 * image's labels, so an image labelled with someone's owner label would pass
 * the label filter; network events name the containers that join. So `type`
 * is forced to exactly `container`. Adding `container` to the caller's own
 * `type` values would not do: they are ORed, and `type=[container,image]`
 * would still let image events through. A `type` naming anything else is
 * refused (403) rather than silently replaced: the caller asked for events it
 * will never be shown. Daemon-wide events of type container without the
 * owner label (the `prune` event, which carries only `reclaimed`) are left
 * out by the label too.
 */

/** The only event type a non-admin may ask for. */
export const OWNED_EVENT_TYPE = 'container'

export type EventFiltersDecision =
  | { ok: true, filters: Filters | undefined }
  | { ok: false, message: string }

export function ownedEventFilters (filters: Filters | undefined, caller: Caller, ownerLabel: string): EventFiltersDecision {
  if (caller.admin) return { ok: true, filters }
  const others = (filters?.type ?? []).filter(t => t !== OWNED_EVENT_TYPE)
  if (others.length > 0) {
    return { ok: false, message: `events of type ${others.map(t => JSON.stringify(t)).join(', ')} are not visible to this token: only its own containers' events are (type=container)` }
  }
  const scoped = scopeListFilters(filters, caller.principal, ownerLabel)
  scoped.type = [OWNED_EVENT_TYPE]
  return { ok: true, filters: scoped }
}
