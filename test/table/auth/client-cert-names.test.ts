// Client-certificate principals: SAN parsing (including Node's quoted form
// since CVE-2021-44532), name order, and the mapping lookup.
import t from 'tap'
import { certificateNames, parseSubjectAltName, resolveCertificate } from '../../../src/auth/client-cert'

t.test('parseSubjectAltName', async t => {
  const cases: Array<[string | undefined, Array<{ type: string, value: string }>]> = [
    [undefined, []],
    ['', []],
    ['DNS:a.example', [{ type: 'DNS', value: 'a.example' }]],
    ['DNS:a, URI:spiffe://corp/ci, IP Address:127.0.0.1', [
      { type: 'DNS', value: 'a' }, { type: 'URI', value: 'spiffe://corp/ci' }, { type: 'IP Address', value: '127.0.0.1' }]],
    // A SAN whose value holds ", DNS:" must stay one entry: Node quotes it.
    ['DNS:"evil, DNS:admin.example", DNS:b', [{ type: 'DNS', value: 'evil, DNS:admin.example' }, { type: 'DNS', value: 'b' }]],
    ['URI:"http://x/\\"q\\""', [{ type: 'URI', value: 'http://x/"q"' }]]
  ]
  for (const [input, want] of cases) t.same(parseSubjectAltName(input), want, String(input))
})

t.test('names: URI SANs, then DNS SANs, then the CN', async t => {
  t.same(certificateNames({ subject: { CN: 'svc' }, subjectaltname: 'DNS:svc.internal, URI:spiffe://corp/svc' }),
    ['URI:spiffe://corp/svc', 'DNS:svc.internal', 'CN=svc'])
  t.same(certificateNames({ subject: { CN: ['a', 'b'] } }), [], 'several CNs: no CN')
  t.same(certificateNames({ subject: null }), [])
})

t.test('resolveCertificate maps the first configured name', async t => {
  const grants = {
    'CN=billing-svc': { scope: 'containers:read containers:write', hosts: ['prod-1'] },
    'URI:spiffe://corp/ci': { scope: 'containers:read', sub: 'ci' }
  }
  const billing = resolveCertificate({ subject: { CN: 'billing-svc' } }, grants)
  t.same(billing.identity, { name: 'CN=billing-svc', principal: 'CN=billing-svc', scopes: ['containers:read', 'containers:write'], allowedHosts: ['prod-1'] })
  const ci = resolveCertificate({ subject: { CN: 'billing-svc' }, subjectaltname: 'URI:spiffe://corp/ci' }, grants)
  t.equal(ci.identity?.principal, 'ci', 'the URI SAN wins over the CN; sub names the principal')
  t.equal(resolveCertificate({ subject: { CN: 'other' } }, grants).identity, undefined)
  t.equal(resolveCertificate({ subject: { CN: 'toString' } }, grants).identity, undefined, 'no prototype keys')
  t.equal(resolveCertificate({ subject: { CN: 'billing-svc' } }, undefined).identity, undefined)
})
