import t from 'tap'
import { ambiguousPrefix, matchOwnReference, type OwnedContainer } from '../../../src/ownership/rules'

// matchOwnReference resolves names and id prefixes among the caller's own
// containers only (issue 10 finding 4): a table of cases.
const L = 'docker-gateway.owner'
const id = (head: string): string => head.padEnd(64, '0')
const own = (head: string, name: string, owner = 'alice'): OwnedContainer => ({ Id: id(head), Names: [`/${name}`], Labels: { [L]: owner } })

const mine = [own('ab12', 'web'), own('ab34', 'db'), own('cd56', 'ab12'), own('ef78', 'cache')]
const cases: Array<[string, readonly OwnedContainer[], ReturnType<typeof matchOwnReference>]> = [
  ['web', mine, { kind: 'found', id: id('ab12') }],
  ['/web', mine, { kind: 'found', id: id('ab12') }],
  // a name wins over an id prefix, as in the daemon
  ['ab12', mine, { kind: 'found', id: id('cd56') }],
  ['ab3', mine, { kind: 'found', id: id('ab34') }],
  ['ab', mine, { kind: 'ambiguous' }],
  ['ef', mine, { kind: 'found', id: id('ef78') }],
  [id('ef78'), mine, { kind: 'found', id: id('ef78') }],
  ['99', mine, { kind: 'none' }],
  ['we', mine, { kind: 'none' }],
  ['AB12', mine, { kind: 'none' }],
  ['', mine, { kind: 'none' }],
  // rows of another owner are ignored even if a list returned them
  ['zz', [own('zz11', 'x', 'bob')], { kind: 'none' }],
  ['x', [own('zz11', 'x', 'bob')], { kind: 'none' }],
  ['zz', [own('zz11', 'x', 'bob'), own('zz22', 'y')], { kind: 'found', id: id('zz22') }],
  ['zz', [{ Id: id('zz11'), Names: null, Labels: null }], { kind: 'none' }],
  ['zz', [{ Id: id('zz11') }, own('zz22', 'y')], { kind: 'found', id: id('zz22') }]
]
for (const [ref, list, want] of cases) {
  t.same(matchOwnReference(ref, list, 'alice', L), want, `${ref || '(empty)'} -> ${want.kind}`)
}

t.same(ambiguousPrefix('ab', '1.41'), { status: 500, message: 'Multiple IDs found with provided prefix: ab' }, 'dockerd 20.10')
t.same(ambiguousPrefix('ab', undefined), { status: 500, message: 'Multiple IDs found with provided prefix: ab' }, 'version not learnt yet')
t.same(ambiguousPrefix('ab', '1.43'), { status: 400, message: 'multiple IDs found with provided prefix: ab' }, 'later daemons')
