// core/ua registration: the REGISTER a TS 24.229 / RFC 7118 UE sends, digest (scenario 1),
// refresh at the R-REG-23 time, de-registration (R-REG-24).
import t from 'tap';
import {
  authValues, contacts, cseq, getHeader, getHeaders, getParam, optionTags, topVia, type ContactBinding,
} from '../../../core/sip/index.js';
import { makeUe, registeredUe, reply, SERVICE_ROUTE, settle } from '../../support/ua-fake-core.js';

const CHALLENGE = 'Digest realm="ims.test", nonce="abc123", qop="auth", algorithm=MD5';

t.test('RFC 7118 §5.2 / RFC 5626 §4.2.1 / TS 24.229 §5.1.1.2: the initial REGISTER a Gm UE over WebSocket sends', async (t) => {
  const { ue, transport } = makeUe(t, { instanceId: 'urn:uuid:00000000-0000-1000-8000-000000000001' });
  void ue.register();
  const register = transport.last('REGISTER');
  t.equal(register.uri.kind === 'sip' && `${register.uri.host}`, 'ims.test', 'Request-URI = the home domain (registrar)');
  const via = topVia(register);
  t.equal(via.transport, 'WS', 'Via transport WS (RFC 7118 §5.2)');
  t.match(via.host, /\.invalid$/, 'Via sent-by is a random .invalid host');
  t.match(via.branch ?? '', /^z9hG4bK/, 'branch with the RFC 3261 magic cookie');
  t.equal(getHeader(register, 'Max-Forwards'), '70');
  t.match(getHeader(register, 'To') ?? '', /^<sip:alice@ims\.test>$/, 'To = the IMPU, no tag');
  t.match(getHeader(register, 'From') ?? '', /^"Alice" <sip:alice@ims\.test>;tag=/, 'From = the IMPU with a tag');
  t.equal(cseq(register).seq, 1);
  const contact = contacts(register)[0] as ContactBinding;
  t.ok(contact.uri.kind === 'sip' && contact.uri.host.endsWith('.invalid'), 'Contact host .invalid');
  t.equal(contact.uri.kind === 'sip' && getParam(contact.uri.params, 'transport'), 'ws', 'Contact transport=ws');
  t.equal(getParam(contact.params, '+sip.instance'), '"<urn:uuid:00000000-0000-1000-8000-000000000001>"', '+sip.instance (RFC 5626 §4.1)');
  t.equal(getParam(contact.params, 'reg-id'), '1', 'reg-id=1');
  t.equal(getHeader(register, 'Expires'), '600000', 'TS 24.229 §5.1.1.2.1: Expires 600000');
  t.same(optionTags(register, 'Supported'), ['path', 'outbound'], 'Supported: path, outbound');
  t.equal(getHeaders(register, 'Route').length, 0, 'no Route on REGISTER');
  t.equal(getHeader(register, 'P-Preferred-Identity'), undefined, 'no P-Preferred-Identity on REGISTER');
  t.ok(getHeader(register, 'Allow')?.includes('INVITE'), 'Allow lists what the UE takes');
  t.equal(ue.registration.state, 'registering');
});

t.test('RFC 3261 §22.2 / RFC 7616 §3.4: a 401 is answered once with digest credentials (IMPI, nc, cnonce), CSeq + 1, same Call-ID', async (t) => {
  const { ue, transport } = makeUe(t);
  const done = ue.register();
  const first = transport.last('REGISTER');
  ue.receive(reply(first, 401, { toTag: 'x', headers: [['WWW-Authenticate', CHALLENGE]] }));
  const second = transport.last('REGISTER');
  t.not(second, first, 'a second REGISTER went out');
  t.equal(getHeader(second, 'Call-ID'), getHeader(first, 'Call-ID'), 'same Call-ID');
  t.equal(cseq(second).seq, 2, 'CSeq incremented');
  t.not(topVia(second).branch, topVia(first).branch, 'new branch');
  const credentials = authValues(second, 'Authorization')[0];
  t.equal(credentials?.params['username'], 'alice@ims.test', 'username = IMPI (user@domain by default)');
  t.equal(credentials?.params['realm'], 'ims.test');
  t.equal(credentials?.params['uri'], 'sip:ims.test', 'digest-uri = the Request-URI');
  t.equal(credentials?.params['nc'], '00000001', 'nc 00000001 for a fresh nonce');
  t.ok(credentials?.params['cnonce'], 'cnonce present with qop=auth');
  t.equal(credentials?.params['qop'], 'auth');
  // A second 401 for the same credentials means they are wrong: no loop.
  ue.receive(reply(second, 401, { toTag: 'x', headers: [['WWW-Authenticate', CHALLENGE]] }));
  const info = await done;
  t.equal(transport.requests('REGISTER').length, 2, 'no third REGISTER');
  t.equal(info.state, 'failed');
  t.equal(info.status, 401, 'failed with the 401');
});

t.test('scenario 1 without a password: a 401 ends the registration as failed', async (t) => {
  const { ue, transport } = makeUe(t, { identity: { impu: 'sip:bob@ims.test' } });
  const done = ue.register();
  ue.receive(reply(transport.last('REGISTER'), 401, { toTag: 'x', headers: [['WWW-Authenticate', CHALLENGE]] }));
  const info = await done;
  t.equal(info.state, 'failed');
  t.equal(transport.requests('REGISTER').length, 1);
});

t.test('R-REG-17: the 200 gives the granted expiry, Service-Route and P-Associated-URI; a registration event is emitted', async (t) => {
  const states: string[] = [];
  const rig = makeUe(t);
  rig.ue.on('registration', (info) => states.push(info.state));
  const done = rig.ue.register();
  const register = rig.transport.last('REGISTER');
  rig.ue.receive(reply(register, 200, { toTag: 'r', headers: [
    ['Contact', `${getHeader(register, 'Contact') ?? ''};expires=3600`], ['Contact', '<sip:other@192.0.2.9>;expires=100'],
    ['Service-Route', SERVICE_ROUTE], ['P-Associated-URI', '<sip:alice@ims.test>, <tel:+15550100>'],
  ] }));
  const info = await done;
  t.equal(info.state, 'registered');
  t.equal(info.expires, 3600, 'the expires of our own contact, not another binding');
  t.same(info.associatedUris, ['sip:alice@ims.test', 'tel:+15550100']);
  t.same(states, ['registering', 'registered']);
});

t.test('R-REG-23: refresh 600 s before expiry when the registration lasts more than 1200 s; same Call-ID, next CSeq', async (t) => {
  const { ue, transport, clock } = await registeredUe(t, {}, 3600);
  const first = transport.last('REGISTER');
  clock.advance(2999_000);
  t.equal(transport.requests('REGISTER').length, 1, 'nothing before 3000 s');
  clock.advance(1_000);
  const refresh = transport.last('REGISTER');
  t.not(refresh, first, 're-REGISTER at 3600 - 600 = 3000 s');
  t.equal(getHeader(refresh, 'Call-ID'), getHeader(first, 'Call-ID'), 'RFC 3261 §10.2.4: same Call-ID');
  t.equal(cseq(refresh).seq, cseq(first).seq + 1, 'CSeq incremented');
  t.equal(getParam((contacts(refresh)[0] as ContactBinding).params, '+sip.instance'), getParam((contacts(first)[0] as ContactBinding).params, '+sip.instance'), 'same instance id');
  t.equal(ue.registration.state, 'registered', 'still registered while refreshing');
});

t.test('R-REG-23: a registration of 1200 s or less is refreshed at half its duration', async (t) => {
  const { transport, clock } = await registeredUe(t, {}, 600);
  clock.advance(299_000);
  t.equal(transport.requests('REGISTER').length, 1);
  clock.advance(1_000);
  t.equal(transport.requests('REGISTER').length, 2, 're-REGISTER at 300 s');
});

t.test('R-REG-23: a failed refresh emits registration "failed" with the status', async (t) => {
  const { ue, transport, clock } = await registeredUe(t, {}, 600);
  const events: { state: string; status?: number }[] = [];
  ue.on('registration', (info) => events.push({ state: info.state, ...(info.status !== undefined ? { status: info.status } : {}) }));
  clock.advance(300_000);
  ue.receive(reply(transport.last('REGISTER'), 403, { toTag: 'x' }));
  await settle();
  t.same(events.at(-1), { state: 'failed', status: 403 });
  t.equal(ue.registration.state, 'failed');
});

t.test('issue 11 #10: a refresh the core did not answer (504) keeps the registration and is retried until the core answers', async (t) => {
  const { ue, transport, clock } = await registeredUe(t, {}, 600);
  clock.advance(300_000);
  ue.receive(reply(transport.last('REGISTER'), 504, { toTag: 'x', reason: 'Server Time-out' }));
  await settle();
  t.equal(ue.registration.state, 'registered', 'RFC 3261 §10.2.1: the binding stands until it expires (300 s left)');
  const sent = transport.requests('REGISTER').length;
  clock.advance(30_000);
  t.equal(transport.requests('REGISTER').length, sent + 1, 'RFC 5626 §4.5: retried after the 30 s base back-off');
  ue.receive(reply(transport.last('REGISTER'), 503, { toTag: 'x', headers: [['Retry-After', '10']] }));
  await settle();
  clock.advance(10_000);
  t.equal(transport.requests('REGISTER').length, sent + 2, 'a Retry-After of the 503 sets the next attempt');
  ue.receive(reply(transport.last('REGISTER'), 200, { toTag: 'x', headers: [['Contact', `${getHeader(transport.last('REGISTER'), 'Contact') ?? ''};expires=600`]] }));
  await settle();
  t.equal(ue.registration.state, 'registered');
  t.equal(ue.registration.status, 200, 'registered again, without the user registering anew');
});

t.test('RFC 3261 §17.1.2.2 Timer F: no answer within 64*T1 ends the REGISTER with 408', async (t) => {
  const { ue, clock } = makeUe(t);
  const done = ue.register();
  clock.advance(32_000);
  const info = await done;
  t.equal(info.state, 'failed');
  t.equal(info.status, 408);
});

t.test('RFC 3261 §8.1.3.1: a send failure is a 503', async (t) => {
  const { ue, transport } = makeUe(t);
  transport.fail = true;
  const info = await ue.register();
  t.equal(info.status, 503);
});

t.test('R-REG-24: de-registration is REGISTER Expires 0 with the same Call-ID; the refresh timer stops', async (t) => {
  const { ue, transport, clock } = await registeredUe(t, {}, 3600);
  const done = ue.unregister();
  const dereg = transport.last('REGISTER');
  t.equal(getHeader(dereg, 'Expires'), '0');
  t.equal(cseq(dereg).seq, 2);
  ue.receive(reply(dereg, 200, { toTag: 'r' }));
  const info = await done;
  t.equal(info.state, 'unregistered');
  clock.advance(10_000_000);
  t.equal(transport.requests('REGISTER').length, 2, 'no refresh after de-registration');
  t.equal(clock.pending, 0, 'no timer left');
});

t.test('close(): no SIP, no timers, state unregistered', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  const before = transport.sent.length;
  ue.close();
  t.equal(transport.sent.length, before, 'nothing sent');
  t.equal(clock.pending, 0, 'no timer left');
  t.equal(ue.registration.state, 'unregistered');
  await t.rejects(ue.register(), { code: 'EPC_ERR_UA_CLOSED' });
});

t.test('RFC 7616 §3.4 / TS 24.229 §5.1.1.4.1: a re-REGISTER carries Authorization with the last nonce and the next nc', async (t) => {
  const { ue, transport, clock } = makeUe(t);
  const done = ue.register();
  ue.receive(reply(transport.last('REGISTER'), 401, { toTag: 'x', headers: [['WWW-Authenticate', CHALLENGE]] }));
  const authed = transport.last('REGISTER');
  ue.receive(reply(authed, 200, { toTag: 'r', headers: [['Contact', `${getHeader(authed, 'Contact') ?? ''};expires=600`]] }));
  await done;
  clock.advance(300_000);
  const refresh = transport.last('REGISTER');
  const credentials = authValues(refresh, 'Authorization')[0];
  t.equal(credentials?.params['nonce'], 'abc123', 'the last nonce');
  t.equal(credentials?.params['nc'], '00000002', 'nonce count incremented');
  t.not(credentials?.params['cnonce'], authValues(authed, 'Authorization')[0]?.params['cnonce'], 'a fresh cnonce');
  // The nonce went stale: the 401 with stale=true is answered again (RFC 7616 §3.3).
  ue.receive(reply(refresh, 401, { toTag: 'x', headers: [['WWW-Authenticate', 'Digest realm="ims.test", nonce="n2", qop="auth", stale=true']] }));
  const again = transport.last('REGISTER');
  t.equal(authValues(again, 'Authorization')[0]?.params['nonce'], 'n2');
  t.equal(authValues(again, 'Authorization')[0]?.params['nc'], '00000001');
});

t.test('RFC 3261 §10.2.8: 423 Interval Too Brief is retried with Min-Expires', async (t) => {
  const { ue, transport } = makeUe(t, { expires: 60 });
  const done = ue.register();
  ue.receive(reply(transport.last('REGISTER'), 423, { toTag: 'x', headers: [['Min-Expires', '300']] }));
  const retry = transport.last('REGISTER');
  t.equal(getHeader(retry, 'Expires'), '300');
  t.equal(cseq(retry).seq, 2);
  ue.receive(reply(retry, 200, { toTag: 'r', headers: [['Expires', '300']] }));
  t.equal((await done).expires, 300);
});
