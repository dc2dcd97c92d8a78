// Issue #12 part 2: an XMPP client (@xmpp/client over RFC 7395) logs in through epcscf
// (xmpp-ws → core/ua → core/pcscf) into the embedded dev IMS core (examples/dev-ims-core): SASL
// PLAIN succeeds only once the IMS REGISTER (digest with the PLAIN password) succeeded.
import t, { type Test } from 'tap';
import { getHeader, getHeaders } from '../../core/sip/index.js';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { startEpcscf, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { RawXmppSocket, XmppJsUser, xml } from '../support/xmpp-clients.js';

async function setUp(t: Test): Promise<{ epcscf: EpcscfUnderTest; service: string }> {
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const epcscf = await startEpcscf({ nextHop: core.uri, extraPlugins: [{ name: 'xmpp-ws' }] });
  t.teardown(() => epcscf.close());
  return { epcscf, service: `${epcscf.baseUrl}/xmpp` };
}

async function login(t: Test, service: string, username: string, password: string): Promise<XmppJsUser> {
  const user = await XmppJsUser.login({ service, domain: 'ims.test', username, password });
  t.teardown(() => user.stop());
  return user;
}

t.test('R-XWS-10/11: SASL PLAIN succeeds after the IMS REGISTER (digest with the PLAIN password); the bound JID is user@domain/resource', async (t) => {
  const { epcscf, service } = await setUp(t);
  const alice = await login(t, service, 'alice', 'alicepw');
  t.equal(alice.jid, 'alice@ims.test/test', 'RFC 6120 §7: the bound full JID');
  const registers = epcscf.capture.requests('mw', 'out', 'REGISTER');
  t.ok(registers.length >= 2, 'a challenged REGISTER then an answered one went out on Mw');
  const answered = registers.at(-1);
  t.match(answered && getHeader(answered, 'Authorization'), /username="alice@ims\.test"/, 'scenario 1: the IMPI is the SASL authcid at the domain');
  t.ok(answered && getHeaders(answered, 'Path').length > 0, 'R-REG-11: the P-CSCF added its Path');
  t.match(answered && getHeader(answered, 'To'), /sip:alice@ims\.test/, 'the IMPU is sip:authcid@domain');
  const registered = epcscf.capture.responses('mw', 'in', 'REGISTER').some((r) => r.status === 200);
  t.ok(registered, 'the IMS core answered 200 before <success/>');

  const ping = await alice.xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'ims.test' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  t.equal(ping.attrs['type'], 'result', 'XEP-0199 ping answered');
  const disco = await alice.xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'ims.test' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
  const features = disco.getChild('query')?.getChildren('feature').map((f) => f.attrs['var']) ?? [];
  for (const feature of ['urn:xmpp:jingle:1', 'urn:xmpp:jingle:apps:rtp:1', 'urn:xmpp:jingle:apps:rtp:audio', 'urn:xmpp:jingle:apps:rtp:video',
    'urn:xmpp:jingle:transports:ice-udp:1', 'urn:xmpp:jingle:apps:dtls:0', 'urn:xmpp:jingle-message:0', 'urn:xmpp:receipts', 'http://jabber.org/protocol/chatstates']) {
    t.ok(features.includes(feature), `XEP-0030: disco#info lists ${feature}`);
  }
  const roster = await alice.xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
  t.equal(roster.getChild('query')?.children.length, 0, 'RFC 6121: the roster is empty');

  const unknown = await alice.xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'ims.test' }, xml('query', { xmlns: 'jabber:iq:version' }))).catch((e: unknown) => e);
  t.match(String((unknown as { condition?: string }).condition), 'feature-not-implemented', 'RFC 6120 §8.4: an unknown IQ to the server is feature-not-implemented, never silence');
  const unmapped = await alice.xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'someone@example.org' }, xml('ping', { xmlns: 'urn:xmpp:ping' }))).catch((e: unknown) => e);
  t.match(String((unmapped as { condition?: string }).condition), 'service-unavailable', 'an IQ to a JID the gateway does not map is service-unavailable');

  const mark = alice.received.length;
  await alice.send(xml('presence'));
  const echoed = await alice.next((s) => s.is('presence'), 5000, mark);
  t.equal(echoed.attrs['from'], 'alice@ims.test/test', 'RFC 6121 §4.2.2: own presence echoed');
});

t.test('R-XWS-10: a wrong password: the IMS REGISTER fails and SASL answers <failure><not-authorized/>', async (t) => {
  const { epcscf, service } = await setUp(t);
  const refused = await XmppJsUser.login({ service, domain: 'ims.test', username: 'alice', password: 'wrong' }).then(() => undefined, (e: unknown) => e);
  t.ok(refused, 'the login is refused');
  t.match(String((refused as { condition?: string } | undefined)?.condition), 'not-authorized');
  const finals = epcscf.capture.responses('mw', 'in', 'REGISTER').map((r) => r.status);
  t.notOk(finals.includes(200), `no REGISTER succeeded (${finals.join(',')})`);
});

t.test('R-XWS-4/5/7: open answered with open + features; wrong domain: open then host-unknown, then close', async (t) => {
  const { service } = await setUp(t);
  const raw = await RawXmppSocket.connect(service);
  t.teardown(() => raw.close());
  t.equal(raw.ws.protocol, 'xmpp', 'R-XWS-1: subprotocol xmpp echoed');
  raw.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>');
  t.match(await raw.nextFrame((f) => f.startsWith('<open')), /from="ims\.test"/);
  t.match(await raw.nextFrame((f) => f.startsWith('<features')), /<mechanism>PLAIN<\/mechanism>/, 'PLAIN offered');
  t.notMatch(raw.frames.join(''), /SCRAM/, 'SCRAM is not offered (the password must answer the IMS digest)');
  raw.send('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
  t.match(await raw.nextFrame((f) => f.startsWith('<close')), /xmpp-framing/, 'R-XWS-8: client <close/> answered with <close/>');
  t.equal((await raw.closed).code, 1000);

  const other = await RawXmppSocket.connect(service);
  t.teardown(() => other.close());
  other.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="example.org" version="1.0"/>');
  await other.nextFrame((f) => f.startsWith('<open'));
  t.match(await other.nextFrame((f) => f.startsWith('<error')), /<host-unknown/, 'R-XWS-7: the error in its own message after our <open/>');
  await other.nextFrame((f) => f.startsWith('<close'));
  await other.closed;
});
