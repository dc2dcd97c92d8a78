// R-REG-2: both forms of the bearer token in Authorization, and R-REG-5: stripping it.
import t from 'tap';
import { bearerTokenOf, isBearerAuthorization, parseBearerCredentials, withoutBearer } from '../../../core/webauth/index.js';
import { createRequest } from '../../../core/sip/index.js';
import { stripUntrustedHeaders } from '../../../core/pcscf/header-hygiene.js';

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln-_';

t.test('R-REG-2: the RFC 6750/8898 form and the TS 24.371 A.3.2 form give the same token', async (t) => {
  t.equal(parseBearerCredentials(`Bearer ${JWT}`), JWT);
  t.equal(parseBearerCredentials(`Bearer access_token="${JWT}"`), JWT);
  t.equal(parseBearerCredentials(`bearer   access_token = "${JWT}" `), JWT, 'scheme case and spaces do not matter');
  t.equal(parseBearerCredentials('Bearer abc=='), 'abc==', 'b64token padding');
  for (const bad of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer access_token=', 'Bearer access_token="a\\"b"', 'Bearer access_token="a', 'Bearer "x"', 'Bearer a;b']) {
    t.equal(parseBearerCredentials(bad), undefined, `${JSON.stringify(bad)} cannot be read`);
  }
});

t.test('only Authorization: Bearer lines are bearer credentials', async (t) => {
  t.ok(isBearerAuthorization({ name: 'Authorization', value: 'Bearer x' }));
  t.ok(isBearerAuthorization({ name: 'authorization', value: ' BEARER x' }));
  t.notOk(isBearerAuthorization({ name: 'Authorization', value: 'Digest username="alice"' }));
  t.notOk(isBearerAuthorization({ name: 'Authorization', value: 'Bearerx y' }));
  t.notOk(isBearerAuthorization({ name: 'Proxy-Authorization', value: 'Bearer x' }));
});

t.test('bearerTokenOf finds the token, says malformed when it cannot be read, and withoutBearer strips only Bearer lines (R-REG-5)', async (t) => {
  const base = createRequest({ method: 'REGISTER', uri: 'sip:ims.test', headers: [['From', '<sip:alice@ims.test>;tag=1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'c'], ['CSeq', '1 REGISTER']] });
  t.same(bearerTokenOf(base), { kind: 'none' });
  const withToken = { ...base, headers: [...base.headers, { name: 'Authorization', value: `Bearer access_token="${JWT}"` }, { name: 'Authorization', value: 'Digest username="x"' }] };
  t.same(bearerTokenOf(withToken), { kind: 'token', token: JWT });
  t.same(bearerTokenOf({ ...base, headers: [...base.headers, { name: 'Authorization', value: 'Bearer' }] }), { kind: 'malformed' });
  const stripped = withoutBearer(withToken);
  t.same(stripped.headers.filter((h) => h.name === 'Authorization').map((h) => h.value), ['Digest username="x"']);
  t.equal(withoutBearer(base), base, 'a request without Bearer is returned as is');
});

t.test('R-REG-5, R-ORIG-7: every request the P-CSCF forwards from a WIC loses its Bearer token (not its digest credentials)', async (t) => {
  const bye = createRequest({ method: 'BYE', uri: 'sip:bob@ims.test', headers: [
    ['From', '<sip:alice@ims.test>;tag=1'], ['To', '<sip:bob@ims.test>;tag=2'], ['Call-ID', 'c'], ['CSeq', '2 BYE'],
    ['Authorization', `Bearer ${JWT}`], ['Proxy-Authorization', 'Digest username="alice"'], ['Authorization', 'Digest username="alice"'],
  ] });
  t.same(stripUntrustedHeaders(bye).headers.filter((h) => /authorization/i.test(h.name)).map((h) => `${h.name}: ${h.value}`),
    ['Proxy-Authorization: Digest username="alice"', 'Authorization: Digest username="alice"']);
});
