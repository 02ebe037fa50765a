import t from 'tap'
import { isOwnedVolume, notAVolumeName, volumeCreateBody, volumeNotOwned } from '../../../src/ownership/volumes'

/**
 * The pure parts of volume ownership: the body of the gateway's own volume
 * create, the owner check on what the daemon stored, and the one refusal.
 * The round trip to the daemon is test/e2e/security/volume-ownership.test.ts.
 */
const LABEL = 'docker-gateway.owner'

t.test('the volume create body is built by the gateway: local driver, owner label last and only the gateway\'s', async t => {
  t.same(JSON.parse(volumeCreateBody({ name: 'vol-x', labels: {} }, LABEL, 'alice') ?? 'null'),
    { Name: 'vol-x', Driver: 'local', Labels: { [LABEL]: 'alice' } }, 'plain')
  t.same(JSON.parse(volumeCreateBody({ name: 'vol-x', labels: { team: 'red', [LABEL]: 'bob' } }, LABEL, 'alice') ?? 'null'),
    { Name: 'vol-x', Driver: 'local', Labels: { team: 'red', [LABEL]: 'alice' } }, 'a forged owner label is overwritten (belt: the policy refuses it first)')
  for (const bad of ['', 'a', '/etc', '../x', 'a/b', '.x', '-x', 'x y', 'x\u0000', 'ü-vol']) {
    t.equal(volumeCreateBody({ name: bad, labels: {} }, LABEL, 'alice'), undefined, `name ${JSON.stringify(bad)} is not sent`)
  }
})

t.test('a volume is the caller\'s only with its owner label, the local driver and no driver options', async t => {
  const mine = { Name: 'vol-x', Driver: 'local', Labels: { [LABEL]: 'alice' }, Options: null }
  const cases: Array<[string, Record<string, unknown>, string, boolean]> = [
    ['own', mine, 'alice', true],
    ['own, empty Options object', { ...mine, Options: {} }, 'alice', true],
    ['another principal\'s', { ...mine, Labels: { [LABEL]: 'bob' } }, 'alice', false],
    ['unlabelled (made on the daemon)', { ...mine, Labels: null }, 'alice', false],
    ['other labels only', { ...mine, Labels: { team: 'red' } }, 'alice', false],
    ['owner label differing in case', { ...mine, Labels: { 'Docker-Gateway.Owner': 'alice' } }, 'alice', false],
    ['owner value differing in case', { ...mine, Labels: { [LABEL]: 'Alice' } }, 'alice', false],
    ['another driver', { ...mine, Driver: 'nfs-plugin' }, 'alice', false],
    ['local with bind options', { ...mine, Options: { type: 'none', o: 'bind', device: '/' } }, 'alice', false],
    ['another name (a daemon that folds case)', { ...mine, Name: 'VOL-X' }, 'alice', false],
    ['empty principal never owns', { ...mine, Labels: { [LABEL]: '' } }, '', false]
  ]
  for (const [name, info, principal, want] of cases) t.equal(isOwnedVolume(info, 'vol-x', LABEL, principal), want, name)
})

t.test('the refusal is one message whatever the reason', async t => {
  t.equal(volumeNotOwned({ field: 'HostConfig.Binds[0]', name: 'x1' }), 'policy denied: HostConfig.Binds[0] names volume "x1", which you do not own (rule: volume-ref)')
  t.equal(notAVolumeName({ field: 'HostConfig.Mounts[0].Source', name: '/etc' }), 'policy denied: HostConfig.Mounts[0].Source="/etc" is not a volume name (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]+) (rule: volume-ref)')
  t.equal(volumeNotOwned({ field: 'HostConfig.Mounts[2].Source', name: 'vol-x' }), 'policy denied: HostConfig.Mounts[2].Source names volume "vol-x", which you do not own (rule: volume-ref)')
})
