import t from 'tap'
import { ownedEventFilters } from '../../src/ownership/events'
import { ownedPruneFilters } from '../../src/ownership/prune'

/**
 * The filters a non-admin's events and prune calls are forwarded with (the
 * end-to-end proof on the daemon is test/security/events-owned and
 * prune-owned). dockerd ORs the values of one name, so `type` must be
 * replaced by exactly `container`, never extended.
 */
const alice = { principal: 'alice', admin: false }
const root = { principal: 'root', admin: true }
const LABEL = 'docker-gateway.owner'

t.test('events: the owner label ANDed in, type exactly container', async t => {
  t.same(ownedEventFilters(undefined, alice, LABEL), { ok: true, filters: { label: [`${LABEL}=alice`], type: ['container'] } })
  t.same(ownedEventFilters({ type: ['container'], label: ['x=y'], container: ['bob-web'] }, alice, LABEL),
    { ok: true, filters: { type: ['container'], label: ['x=y', `${LABEL}=alice`], container: ['bob-web'] } })
  // type=container,image: adding container would keep image events (values are ORed): refused.
  const wide = ownedEventFilters({ type: ['container', 'image'] }, alice, LABEL)
  t.same(wide, { ok: false, message: 'events of type "image" are not visible to this token: only its own containers\' events are (type=container)' })
  t.notOk(ownedEventFilters({ type: ['network'] }, alice, LABEL).ok)
  t.notOk(ownedEventFilters({ type: [''] }, alice, LABEL).ok, 'an empty type is not container either')
})

t.test('events and prune: an admin\'s filters are forwarded as sent', async t => {
  const asked = { type: ['image'] }
  t.same(ownedEventFilters(asked, root, LABEL), { ok: true, filters: asked })
  t.same(ownedEventFilters(undefined, root, LABEL), { ok: true, filters: undefined })
  t.equal(ownedPruneFilters(undefined, root, LABEL), undefined)
})

t.test('prune: the owner label ANDed into label, the rest kept', async t => {
  t.same(ownedPruneFilters(undefined, alice, LABEL), { label: [`${LABEL}=alice`] })
  t.same(ownedPruneFilters({ label: [`${LABEL}=bob`], until: ['10m'], 'label!': ['keep'] }, alice, LABEL),
    { label: [`${LABEL}=bob`, `${LABEL}=alice`], until: ['10m'], 'label!': ['keep'] })
})
