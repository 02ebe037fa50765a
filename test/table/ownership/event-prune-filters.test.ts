import t from 'tap'
import { ownedEventFilters } from '../../../src/ownership/events'
import { forgetPruned, ownedPruneFilters } from '../../../src/ownership/prune'
import { ContainerResolver } from '../../../src/ownership/resolver'
import type { UpstreamHost } from '../../../src/upstream/hosts'

/**
 * The filters a non-admin's events and prune calls are forwarded with (the
 * end-to-end proof on the daemon is test/e2e/security/events-owned and
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

t.test('prune: the ids the daemon answers as deleted leave the id -> owner cache', async t => {
  const resolver = new ContainerResolver({ ownerLabel: LABEL })
  // The cache is keyed by the host's name only.
  const host = { name: 'local' } as UpstreamHost
  const [gone, kept] = ['a'.repeat(64), 'b'.repeat(64)]
  resolver.learn(host, gone, 'alice')
  resolver.learn(host, kept, 'alice')
  const forget = forgetPruned(resolver, host)
  forget(500, Buffer.from(JSON.stringify({ ContainersDeleted: [gone] })))
  forget(200, Buffer.from('not json'))
  forget(200, Buffer.from('{"ContainersDeleted":null,"SpaceReclaimed":0}'))
  t.equal(resolver.size, 2, 'an error, a body it cannot read and an empty prune forget nothing')
  forget(200, Buffer.from(JSON.stringify({ ContainersDeleted: [gone, 'not-an-id'], SpaceReclaimed: 5 })))
  t.equal(resolver.size, 1)
  t.same((await resolver.resolve(host, kept)), { found: true, id: kept, owner: 'alice' }, 'the other entry is still cached (no daemon asked)')
})
