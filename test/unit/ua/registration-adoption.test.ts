// Issue #15: a JSON-RPC or XMPP client that resumes on another node is registered again without a
// REGISTER on Mw. The virtual UE's registration travels as a snapshot (core/ua/registration-snapshot.ts)
// and a UE on the other node adopts it: same Call-ID, Contact and instance, the next CSeq, the
// Service-Route, and the digest nonce with the next nonce count (RFC 3261 §10.2.4, RFC 7616 §3.4).
import t, { type Test } from 'tap';
import { authValues, contacts, cseq, getHeader, getHeaders, getParam, type ContactBinding, type SipRequest } from '../../../core/sip/index.js';
import { readRegistrationSnapshot, type RegistrationSnapshot } from '../../../core/ua/index.js';
import { makeUe, reply, SERVICE_ROUTE, settle } from '../../support/ua-fake-core.js';

const CHALLENGE = 'Digest realm="ims.test", nonce="n0nce42", qop="auth", algorithm=MD5, opaque="op1"';
const EXPIRES = 3600;

/** A UE registered through a digest challenge, and the snapshot it gives, round-tripped through JSON like a shared store does. */
async function registeredWithDigest(t: Test): Promise<{ snapshot: RegistrationSnapshot; json: string; firstRegister: SipRequest }> {
  const { ue, transport } = makeUe(t, { instanceId: 'urn:uuid:00000000-0000-4000-8000-0000000000aa' });
  const done = ue.register();
  ue.receive(reply(transport.last('REGISTER'), 401, { toTag: 'r', headers: [['WWW-Authenticate', CHALLENGE]] }));
  const second = transport.last('REGISTER');
  ue.receive(reply(second, 200, {
    toTag: 'r', headers: [
      ['Contact', `${getHeader(second, 'Contact') ?? ''};expires=${EXPIRES}`], ['Service-Route', SERVICE_ROUTE],
      ['P-Associated-URI', '<sip:alice@ims.test>, <tel:+15550100>'],
    ],
  }));
  t.equal((await done).state, 'registered');
  const snapshot = ue.registrationSnapshot();
  if (snapshot === undefined) throw new Error('no snapshot while registered');
  const json = JSON.stringify(snapshot);
  return { snapshot: readRegistrationSnapshot(JSON.parse(json)), json, firstRegister: second };
}

t.test('issue #15: a UE adopting a registration sends no REGISTER and is registered with the same Service-Route and identities', async (t) => {
  const { snapshot, firstRegister } = await registeredWithDigest(t);
  t.equal(snapshot.cseq, 2, 'the snapshot holds the CSeq reached (REGISTER, then REGISTER with credentials)');
  const { ue, transport } = makeUe(t, { adopt: snapshot });
  await settle();
  t.equal(transport.requests('REGISTER').length, 0, 'no REGISTER on adoption');
  t.equal(ue.registration.state, 'registered');
  t.equal(ue.registration.expires, EXPIRES);
  t.same(ue.registration.associatedUris, ['sip:alice@ims.test', 'tel:+15550100'], 'P-Associated-URI set kept');
  t.equal(ue.instanceId, 'urn:uuid:00000000-0000-4000-8000-0000000000aa', 'the same +sip.instance (RFC 5626 §4.2)');
  void ue.message('sip:bob@ims.test', 'hi');
  const message = transport.last('MESSAGE');
  t.same(getHeaders(message, 'Route'), [SERVICE_ROUTE], 'RFC 3608: requests follow the adopted Service-Route');
  const oldContact = (contacts(firstRegister)[0] as ContactBinding).uri;
  t.same(snapshot.contactUser && `${snapshot.contactUser}@${snapshot.contactHost}`, oldContact.kind === 'sip' ? `${oldContact.user}@${oldContact.host}` : '', 'the Contact the registrar holds');
});

t.test('R-REG-23 / RFC 3261 §10.2.4 / RFC 7616 §3.4: the adopted registration refreshes on time with the same Call-ID and Contact, the next CSeq and nonce count', async (t) => {
  const { snapshot, firstRegister } = await registeredWithDigest(t);
  const { ue, transport, clock } = makeUe(t, { adopt: snapshot });
  clock.advance(Math.max(0, snapshot.refreshAt - clock.now()) - 1000);
  await settle();
  t.equal(transport.requests('REGISTER').length, 0, 'nothing before the refresh time');
  clock.advance(2000);
  await settle();
  const refresh = transport.last('REGISTER');
  t.equal(getHeader(refresh, 'Call-ID'), getHeader(firstRegister, 'Call-ID'), 'same Call-ID');
  t.equal(cseq(refresh).seq, snapshot.cseq + 1, 'next CSeq');
  t.match(getHeader(refresh, 'From') ?? '', new RegExp(`tag=${snapshot.fromTag}$`), 'same From tag');
  const contact = contacts(refresh)[0] as ContactBinding;
  t.equal(contact.uri.kind === 'sip' && `${contact.uri.user}@${contact.uri.host}`, `${snapshot.contactUser}@${snapshot.contactHost}`, 'same Contact');
  t.equal(getParam(contact.params, 'reg-id'), '1');
  const credentials = authValues(refresh, 'Authorization')[0];
  t.equal(credentials?.params['nonce'], 'n0nce42', 'the adopted nonce, no new challenge needed');
  t.equal(credentials?.params['nc'], '00000002', 'the next nonce count');
  t.equal(credentials?.params['opaque'], 'op1');
  t.equal(ue.registration.state, 'registered', 'still registered while the refresh runs');
});

t.test('issue #15: the snapshot never holds the password, and there is none while not registered', async (t) => {
  const { json } = await registeredWithDigest(t);
  t.notMatch(json, /alicepw/, 'no password in the snapshot');
  const { ue } = makeUe(t);
  t.equal(ue.registrationSnapshot(), undefined, 'unregistered: nothing to carry on');
});

t.test('a snapshot read back from a shared store is checked field by field (EPC_ERR_UA_INVALID_ARGUMENT)', async (t) => {
  const { snapshot } = await registeredWithDigest(t);
  const spoiled: [string, unknown][] = [
    ['version', 2], ['callId', 'a b'], ['cseq', -1], ['cseq', 1.5], ['contactHost', 'x"y'], ['instanceId', 'uuid'], ['serviceRoute', [3]],
    ['serviceRoute', Array.from({ length: 33 }, () => '<sip:x>')], ['digest', 'no'], ['digest', [{ realm: 'r', scheme: 'Digest', params: { nonce: 1 }, nc: 1 }]],
  ];
  for (const [field, value] of spoiled) {
    t.throws(() => readRegistrationSnapshot({ ...snapshot, [field]: value }), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' }, `${field} = ${JSON.stringify(value).slice(0, 30)}`);
  }
  t.throws(() => readRegistrationSnapshot(null), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
  t.throws(() => readRegistrationSnapshot('{}'), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
});
