import t from 'tap'
import { checkVolumeMounts, collectVolumeRefs } from '../../../src/policy/volume-refs'
import { resolvePolicyConfig, vetCreate, type PolicyContext } from '../../../src/policy'

/**
 * Which named volumes a create body mounts (each must be the caller's:
 * src/ownership/volumes.ts) and what a volume Mount may say about its volume.
 * Anonymous volumes and host binds are not volume references.
 */

t.test('every named volume of Binds and volume Mounts is collected, nothing else', async t => {
  const cases: Array<[string, Record<string, unknown>, Array<{ field: string, name: string, labels?: Record<string, string> }>]> = [
    ['no mounts', {}, []],
    ['named volume bind', { Binds: ['vol-x:/data'] }, [{ field: 'HostConfig.Binds[0]', name: 'vol-x' }]],
    ['named volume bind with mode', { Binds: ['vol-x:/data:ro,nocopy'] }, [{ field: 'HostConfig.Binds[0]', name: 'vol-x' }]],
    ['anonymous bind (container path only)', { Binds: ['/data'] }, []],
    ['host bind', { Binds: ['/srv/data/a:/a'] }, []],
    ['host and volume binds, index kept', { Binds: ['/srv/data/a:/a', 'v2:/b'] }, [{ field: 'HostConfig.Binds[1]', name: 'v2' }]],
    ['dotted and underscored name', { Binds: ['my_vol.1-a:/d'] }, [{ field: 'HostConfig.Binds[0]', name: 'my_vol.1-a' }]],
    ['names differing in case are two refs', { Binds: ['Vol:/a', 'vol:/b'] }, [{ field: 'HostConfig.Binds[0]', name: 'Vol' }, { field: 'HostConfig.Binds[1]', name: 'vol' }]],
    ['volume Mount', { Mounts: [{ Type: 'volume', Source: 'vol-x', Target: '/steal' }] }, [{ field: 'HostConfig.Mounts[0].Source', name: 'vol-x' }]],
    ['volume Mount with labels and subpath', { Mounts: [{ Type: 'volume', Source: 'vol-x', Target: '/s', VolumeOptions: { Subpath: 'a/b', Labels: { team: 'red' } } }] },
      [{ field: 'HostConfig.Mounts[0].Source', name: 'vol-x', labels: { team: 'red' } }]],
    ['a volume Mount Source that is no volume name is still a ref (the ownership step refuses it)', { Mounts: [{ Type: 'volume', Source: '/etc', Target: '/d' }] }, [{ field: 'HostConfig.Mounts[0].Source', name: '/etc' }]],
    ['anonymous volume Mount (no Source)', { Mounts: [{ Type: 'volume', Target: '/anon' }] }, []],
    ['anonymous volume Mount (empty Source)', { Mounts: [{ Type: 'volume', Source: '', Target: '/anon' }] }, []],
    ['bind Mount is not a volume', { Mounts: [{ Type: 'bind', Source: '/srv/data', Target: '/d' }] }, []],
    ['tmpfs Mount is not a volume', { Mounts: [{ Type: 'tmpfs', Target: '/t' }] }, []],
    ['both forms', { Binds: ['a1:/a'], Mounts: [{ Type: 'tmpfs', Target: '/t' }, { Type: 'volume', Source: 'b1', Target: '/b' }] },
      [{ field: 'HostConfig.Binds[0]', name: 'a1' }, { field: 'HostConfig.Mounts[1].Source', name: 'b1' }]]
  ]
  for (const [name, hc, want] of cases) {
    t.same(collectVolumeRefs(hc), want.map(w => ({ labels: {}, ...w })), name)
  }
  t.same(collectVolumeRefs(undefined), [], 'no HostConfig')
})

t.test('volume Mounts: a forged owner label is refused (volume-ref)', async t => {
  const ctx = { ownerLabel: 'docker-gateway.owner', ownershipEnabled: true }
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['plain named volume', { Type: 'volume', Source: 'vol-x', Target: '/d' }, []],
    ['anonymous', { Type: 'volume', Target: '/d' }, []],
    ['other labels', { Type: 'volume', Source: 'v1', Target: '/d', VolumeOptions: { Labels: { team: 'red' } } }, []],
    ['owner label forged', { Type: 'volume', Source: 'v1', Target: '/d', VolumeOptions: { Labels: { 'docker-gateway.owner': 'bob' } } },
      ['HostConfig.Mounts[0].VolumeOptions.Labels["docker-gateway.owner"] is set by the gateway and cannot be sent']],
    ['owner label forged on an anonymous volume', { Type: 'volume', Target: '/d', VolumeOptions: { Labels: { 'docker-gateway.owner': 'bob' } } },
      ['HostConfig.Mounts[0].VolumeOptions.Labels["docker-gateway.owner"] is set by the gateway and cannot be sent']],
    ['another owner-like key is just a label', { Type: 'volume', Source: 'v1', Target: '/d', VolumeOptions: { Labels: { 'Docker-Gateway.Owner': 'bob' } } }, []],
    ['bind Mount is not judged here', { Type: 'bind', Source: '/x', Target: '/d' }, []]
  ]
  for (const [name, mount, messages] of cases) {
    const out = checkVolumeMounts({ Mounts: [mount] }, ctx)
    t.same(out.map(v => v.message), messages, name)
    t.ok(out.every(v => v.rule === 'volume-ref'), `${name}: rule volume-ref`)
  }
  const forged = { Mounts: [{ Type: 'volume', Source: 'v1', Target: '/d', VolumeOptions: { Labels: { 'docker-gateway.owner': 'bob' } } }] }
  t.same(checkVolumeMounts(forged, { ...ctx, ownershipEnabled: false }), [], 'ownership disabled: the label is nobody\'s to protect')
})

t.test('vetCreate returns the volume refs of an allowed body and refuses forged owner labels', async t => {
  const config = resolvePolicyConfig({})
  const who: PolicyContext = { principal: 'alice', scopes: ['containers:write'], ownerLabel: 'docker-gateway.owner', ownershipEnabled: true }
  const d = vetCreate(JSON.stringify({ Image: 'busybox', HostConfig: { Binds: ['vol-x:/data', '/anon'], Mounts: [{ Type: 'volume', Source: 'vol-y', Target: '/y' }, { Type: 'volume', Target: '/z' }] } }), config, who)
  if (!d.allow) return t.fail(d.message)
  t.same(d.volumeRefs, [
    { field: 'HostConfig.Binds[0]', name: 'vol-x', labels: {} },
    { field: 'HostConfig.Mounts[0].Source', name: 'vol-y', labels: {} }
  ], 'named volumes only')
  const none = vetCreate(JSON.stringify({ Image: 'busybox' }), config, who)
  t.same(none.allow && none.volumeRefs, [], 'no mounts, no refs')
  // Go decodes Mount keys case-insensitively: the folded body is what is judged.
  const folded = vetCreate(JSON.stringify({ Image: 'busybox', HostConfig: { mounts: [{ type: 'volume', source: 'v1', target: '/d', volumeoptions: { labels: { 'docker-gateway.owner': 'bob' } } }] } }), config, who)
  t.equal(folded.allow, false, 'a case-folded forged owner label is refused')
  if (!folded.allow) t.equal(folded.rule, 'volume-ref')
})
