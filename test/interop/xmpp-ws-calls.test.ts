// Issue #12 part 2: Jingle calls through epcscf (xmpp-ws → core/ua → core/pcscf with the IMS-ALG
// driving media-gw) into Kamailio, the IMS core stand-in. The client's Jingle is written and read
// by stanza.js's own SDP ⇄ Jingle converter and carried by an @xmpp/client connection. Media need
// not flow here: the SDP on Mw must be the IMS-ALG's rewrite of the client's offer.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { bodyText, getHeader, getHeaders } from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { startGateway } from '../support/media-gateways.js';
import { readOffer, gatewayAnswer } from '../support/webrtc/gateway-sdp.js';
import { XmppJsUser, jingleIqFromSdp, sdpFromJingleIq, xml, type XmlNode } from '../support/xmpp-clients.js';

const CHROME_AUDIO_OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
const JINGLE = 'urn:xmpp:jingle:1';
const JMI = 'urn:xmpp:jingle-message:0';

interface Rig { epcscf: EpcscfUnderTest; alice: XmppJsUser }

async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const gateway = await startGateway('media-gw');
  t.teardown(() => gateway.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), media: gateway.control, extraPlugins: [{ name: 'xmpp-ws' }, { name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  const alice = await XmppJsUser.login({ service: `${epcscf.baseUrl}/xmpp`, domain: 'ims.test', username: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  // Acknowledge every Jingle IQ, as a client's Jingle stack does (XEP-0166 §6.3.1).
  alice.xmpp.iqCallee.set(JINGLE, 'jingle', () => true);
  return { epcscf, alice };
}

const jingleAction = (action: string, sid?: string) => (s: XmlNode): boolean => s.is('iq') && s.attrs['type'] === 'set'
  && s.getChild('jingle', JINGLE)?.attrs['action'] === action && (sid === undefined || s.getChild('jingle', JINGLE)?.attrs['sid'] === sid);

/** A WebRTC answer (DTLS active, ICE, PCMU) to `offer`, as a browser callee would write it. */
function webrtcAnswer(offer: string, port: number): string {
  return gatewayAnswer({
    address: { address: '127.0.0.1', port }, ice: { ufrag: 'ansU', pwd: 'answerpasswordanswerpass' },
    fingerprint: { algorithm: 'sha-256', value: Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':') },
    setup: 'active', mid: readOffer(offer).mid, ssrc: 4242,
  });
}

async function jsonRpcUser(t: Test, epcscf: EpcscfUnderTest, user: string): Promise<RpcWsClient> {
  const client = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => client.close());
  const registered = await client.request('session.register', { impu: `sip:${user}@ims.test`, password: 'secret' });
  if (registered['state'] !== 'registered') throw new Error(`${user} did not register: ${JSON.stringify(registered)}`);
  return client;
}

t.test('F-JNG-*: session-initiate → INVITE with the IMS-ALG rewrite on Mw; 180 → ringing; 200 → session-accept; hold, DTMF; session-terminate → BYE', async (t) => {
  const { epcscf, alice } = await setUp(t);
  const aliceRegister = epcscf.capture.requests('mw', 'out', 'REGISTER').find((r) => /sip:alice@ims\.test/.test(getHeader(r, 'To') ?? '') && getHeader(r, 'Authorization') !== undefined);
  t.match(aliceRegister && getHeader(aliceRegister, 'Authorization'), /username="alice@ims\.test"/, 'SASL PLAIN → a digest REGISTER to Kamailio');
  t.ok(aliceRegister && getHeaders(aliceRegister, 'Path').length > 0, 'R-REG-11: with the P-CSCF\'s Path');
  const bob = await jsonRpcUser(t, epcscf, 'bob');
  const sid = 'call-out-1';
  const mark = alice.received.length;
  const ack = alice.next((s) => s.is('iq') && s.attrs['id'] === 'si1', 5000, mark);
  await alice.send(jingleIqFromSdp(CHROME_AUDIO_OFFER, { to: 'bob@ims.test', id: 'si1', sid, action: 'session-initiate', initiator: alice.jid }));
  t.equal((await ack).attrs['type'], 'result', 'F-JNG-5: the session-initiate is acknowledged');

  const incoming = await bob.notification('call.incoming', () => true, 10_000);
  const callId = String(incoming['callId']);
  t.match(JSON.stringify(incoming['from']), /alice@ims\.test/, 'bob sees alice calling');
  const fromUe = epcscf.capture.requests('w2', 'in', 'INVITE')[0];
  const onMw = epcscf.capture.requests('mw', 'out', 'INVITE')[0];
  const ueSdp = fromUe ? bodyText(fromUe) : '';
  const mwSdp = onMw ? bodyText(onMw) : '';
  t.match(ueSdp, /a=ice-ufrag:5\+Ix/, 'the UE\'s offer is the client\'s description (its ICE credentials)');
  t.match(ueSdp, /a=fingerprint:sha-256 6B:8B:5D/, 'and its DTLS fingerprint (XEP-0320)');
  t.match(mwSdp, /^m=audio [1-9]\d* RTP\/AVP /m, 'R-ALG-4: on Mw the IMS-ALG offers plain RTP/AVP from media-gw');
  t.notMatch(mwSdp, /a=fingerprint|a=ice-ufrag|a=candidate/, 'no WebRTC transport leaks to the IMS');

  await bob.request('call.ring', { callId });
  const ringing = await alice.next(jingleAction('session-info', sid), 8000, mark);
  t.ok(ringing.getChild('jingle', JINGLE)?.getChild('ringing', 'urn:xmpp:jingle:apps:rtp:info:1'), 'F-JRTP-3: 180 → session-info <ringing/>');
  t.equal(ringing.attrs['from'], 'bob@ims.test');

  await bob.request('call.answer', { callId, sdp: webrtcAnswer(String(incoming['sdp']), 40100) });
  const accept = await alice.next(jingleAction('session-accept', sid), 8000, mark);
  const answerSdp = sdpFromJingleIq(accept, 'responder');
  t.match(answerSdp, /a=fingerprint:sha-256/, 'the session-accept carries a DTLS fingerprint (the gateway\'s WebRTC leg)');
  const answerToUe = epcscf.capture.responses('w2', 'out', 'INVITE').find((r) => r.status === 200 && bodyText(r) !== '');
  const ueFingerprint = /a=fingerprint:sha-256 (\S+)/.exec(answerToUe ? bodyText(answerToUe) : '')?.[1];
  t.ok(ueFingerprint !== undefined && answerSdp.includes(ueFingerprint), 'the session-accept is the 200\'s answer as the UE received it (fingerprint kept)');
  t.match(answerSdp, /a=ice-ufrag:\S+/, 'ICE credentials for the client');

  // TS 24.610 hold and XEP-0181 DTMF.
  const invitesBefore = epcscf.capture.requests('w2', 'in', 'INVITE').length;
  await alice.send(xml('iq', { type: 'set', to: 'bob@ims.test', id: 'h1' }, xml('jingle', { xmlns: JINGLE, action: 'session-info', sid }, xml('hold', { xmlns: 'urn:xmpp:jingle:apps:rtp:info:1' }))));
  const held = await bob.notification('call.updated', (p) => p['callId'] === callId, 10_000);
  t.match(String(held['sdp']), /a=sendonly|a=inactive/, 'hold → a re-INVITE that puts bob on hold');
  t.equal(epcscf.capture.requests('w2', 'in', 'INVITE').length, invitesBefore + 1, 'one re-INVITE from the UE');
  // F-JRTP-3: stanza.js resumes with <active/> rather than <unhold/>: after a <hold/> it is a resume.
  await alice.send(xml('iq', { type: 'set', to: 'bob@ims.test', id: 'a1' }, xml('jingle', { xmlns: JINGLE, action: 'session-info', sid }, xml('active', { xmlns: 'urn:xmpp:jingle:apps:rtp:info:1' }))));
  const resumed = await bob.notification('call.updated', (p) => p['callId'] === callId && /a=sendrecv/.test(String(p['sdp'])), 10_000);
  t.match(String(resumed['sdp']), /a=sendrecv/, '<active/> after <hold/> → a re-INVITE back to sendrecv');
  await alice.send(xml('iq', { type: 'set', to: 'bob@ims.test', id: 'a2' }, xml('jingle', { xmlns: JINGLE, action: 'session-info', sid }, xml('active', { xmlns: 'urn:xmpp:jingle:apps:rtp:info:1' }))));
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(epcscf.capture.requests('w2', 'in', 'INVITE').length, invitesBefore + 2, 'an <active/> on a call that is not held sends nothing');
  await alice.send(xml('iq', { type: 'set', to: 'bob@ims.test', id: 'd1' }, xml('jingle', { xmlns: JINGLE, action: 'session-info', sid }, xml('dtmf', { xmlns: 'urn:xmpp:jingle:dtmf:0', code: '7', duration: '200' }))));
  const info = await epcscf.capture.waitFor((e) => e.side === 'w2' && e.direction === 'in' && e.message.kind === 'request' && e.message.method === 'INFO', { what: 'INFO' });
  t.match(bodyText(info.message), /Signal=7/, 'XEP-0181 → SIP INFO application/dtmf-relay');

  // The SIP side holds: its re-INVITE's direction → session-info <hold/> / <unhold/>.
  const holdMark = alice.received.length;
  await bob.request('call.resume', { callId }).catch(() => undefined);
  await bob.request('call.hold', { callId });
  const heldByBob = await alice.next((s) => jingleAction('session-info', sid)(s) && s.getChild('jingle', JINGLE)?.getChild('hold', 'urn:xmpp:jingle:apps:rtp:info:1') !== undefined, 8000, holdMark);
  t.equal(heldByBob.attrs['from'], 'bob@ims.test', 'a SIP hold (sendonly re-INVITE) → session-info <hold/>');

  await alice.send(xml('iq', { type: 'set', to: 'bob@ims.test', id: 't1' }, xml('jingle', { xmlns: JINGLE, action: 'session-terminate', sid }, xml('reason', {}, xml('success')))));
  const ended = await bob.notification('call.ended', (p) => p['callId'] === callId, 10_000);
  t.equal(ended['cause'], 'remote', 'session-terminate → BYE: bob sees the far end hang up');
  t.ok(epcscf.capture.requests('w2', 'in', 'BYE').length >= 1, 'the UE sent BYE');
});

t.test('XEP-0353: an incoming INVITE rings a JMI client with <propose/>; <proceed/> → session-initiate; session-accept → 200; BYE → session-terminate', async (t) => {
  const { epcscf, alice } = await setUp(t);
  // A client that advertises XEP-0353, as Conversations and converse.js do.
  alice.xmpp.iqCallee.get('http://jabber.org/protocol/disco#info', 'query', () => xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' },
    xml('feature', { var: JINGLE }), xml('feature', { var: JMI })));
  const presenceMark = alice.received.length;
  await alice.send(xml('presence'));
  await alice.next((s) => s.is('presence'), 5000, presenceMark);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the gateway's disco#info round trip
  const bob = await jsonRpcUser(t, epcscf, 'bob');
  const mark = alice.received.length;
  const { callId } = await bob.request('call.invite', { to: 'sip:alice@ims.test', sdp: CHROME_AUDIO_OFFER });
  const propose = await alice.next((s) => s.is('message') && s.getChild('propose', JMI) !== undefined, 10_000, mark);
  const sid = propose.getChild('propose', JMI)?.attrs['id'] ?? '';
  t.equal(propose.attrs['from'], 'bob@ims.test', 'the proposal comes from the caller\'s JID');
  t.equal(propose.getChild('propose', JMI)?.getChild('description', 'urn:xmpp:jingle:apps:rtp:1')?.attrs['media'], 'audio', 'XEP-0353: the media are announced');
  const progress = await bob.notification('call.progress', (p) => p['callId'] === callId, 8000);
  t.equal(progress['sipStatus'], 180, 'the caller hears ringing');

  await alice.send(xml('message', { to: 'bob@ims.test', type: 'chat' }, xml('proceed', { xmlns: JMI, id: sid })));
  const initiate = await alice.next(jingleAction('session-initiate', sid), 8000, mark);
  const offer = sdpFromJingleIq(initiate, 'initiator');
  t.match(offer, /a=fingerprint:sha-256/, 'the session-initiate carries the IMS-ALG\'s WebRTC offer');
  t.notMatch(offer, /6B:8B:5D/, 'not the caller\'s own fingerprint (media-gw anchors the call)');
  await alice.send(jingleIqFromSdp(webrtcAnswer(offer, 40200), { to: 'bob@ims.test', id: 'sa1', sid, action: 'session-accept', responder: alice.jid }));
  const answered = await bob.notification('call.answered', (p) => p['callId'] === callId, 10_000);
  t.match(String(answered['sdp']), /^v=0/, 'session-accept → 200 OK with SDP to the caller');
  const okOnMw = epcscf.capture.responses('mw', 'out', 'INVITE').find((r) => r.status === 200 && bodyText(r) !== '');
  t.equal(okOnMw && getHeader(okOnMw, 'Content-Type'), 'application/sdp', 'RFC 3261 §20.15: the UE\'s 200 names its SDP body');
  t.match(okOnMw ? bodyText(okOnMw) : '', /^m=audio [1-9]\d* RTP\/AVP /m, 'R-ALG-4: the answer leaves on Mw as media-gw\'s plain RTP, not the client\'s WebRTC SDP');

  await bob.request('call.hangup', { callId });
  const terminate = await alice.next(jingleAction('session-terminate', sid), 8000, mark);
  t.ok(terminate.getChild('jingle', JINGLE)?.getChild('reason')?.getChild('success'), 'BYE → session-terminate <success/>');
});

t.test('§10.6 reasons both ways: a <reject/> proposal is 603 to the caller; a failed INVITE ends the Jingle session with the mapped reason', async (t) => {
  const { epcscf, alice } = await setUp(t);
  alice.xmpp.iqCallee.get('http://jabber.org/protocol/disco#info', 'query', () => xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }, xml('feature', { var: JMI })));
  const presenceMark = alice.received.length;
  await alice.send(xml('presence'));
  await alice.next((s) => s.is('presence'), 5000, presenceMark);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const bob = await jsonRpcUser(t, epcscf, 'bob');
  const mark = alice.received.length;
  const { callId } = await bob.request('call.invite', { to: 'sip:alice@ims.test', sdp: CHROME_AUDIO_OFFER });
  const propose = await alice.next((s) => s.is('message') && s.getChild('propose', JMI) !== undefined, 10_000, mark);
  await alice.send(xml('message', { to: 'bob@ims.test', type: 'chat' }, xml('reject', { xmlns: JMI, id: propose.getChild('propose', JMI)?.attrs['id'] })));
  const ended = await bob.notification('call.ended', (p) => p['callId'] === callId, 10_000);
  t.equal(ended['sipStatus'], 603, 'XEP-0353 <reject/> → 603 Decline');

  // carol is not registered: the IMS core answers the INVITE with an error.
  const sid = 'call-out-2';
  const before = alice.received.length;
  await alice.send(jingleIqFromSdp(CHROME_AUDIO_OFFER, { to: 'carol@ims.test', id: 'si2', sid, action: 'session-initiate', initiator: alice.jid }));
  const terminate = await alice.next(jingleAction('session-terminate', sid), 15_000, before);
  const reason = terminate.getChild('jingle', JINGLE)?.getChild('reason');
  const final = epcscf.capture.responses('mw', 'in', 'INVITE').find((r) => r.status >= 300);
  t.ok(final, `the IMS answered the INVITE with ${final?.status}`);
  t.notOk(reason?.getChild('success'), `a failure reason, not success: ${terminate.toString()}`);
});

t.test('a client without XEP-0353 gets a direct session-initiate; its <ringing/> is 180; a <decline/> terminate is 603 to the caller', async (t) => {
  const { epcscf, alice } = await setUp(t);
  const bob = await jsonRpcUser(t, epcscf, 'bob');
  const mark = alice.received.length;
  const { callId } = await bob.request('call.invite', { to: 'sip:alice@ims.test', sdp: CHROME_AUDIO_OFFER });
  const initiate = await alice.next(jingleAction('session-initiate'), 10_000, mark);
  const sid = initiate.getChild('jingle', JINGLE)?.attrs['sid'] ?? '';
  t.equal(initiate.attrs['from'], 'bob@ims.test');
  t.notOk(alice.received.slice(mark).some((s) => s.getChild('propose', JMI)), 'no <propose/> to a client that did not advertise XEP-0353');
  await alice.send(xml('iq', { type: 'set', to: 'bob@ims.test', id: 'r1' }, xml('jingle', { xmlns: JINGLE, action: 'session-info', sid }, xml('ringing', { xmlns: 'urn:xmpp:jingle:apps:rtp:info:1' }))));
  const progress = await bob.notification('call.progress', (p) => p['callId'] === callId, 8000);
  t.equal(progress['sipStatus'], 180, 'F-JRTP-3: <ringing/> → 180 Ringing');
  await alice.send(xml('iq', { type: 'set', to: 'bob@ims.test', id: 'x1' }, xml('jingle', { xmlns: JINGLE, action: 'session-terminate', sid }, xml('reason', {}, xml('decline')))));
  const ended = await bob.notification('call.ended', (p) => p['callId'] === callId, 10_000);
  t.equal(ended['sipStatus'], 603, '§10.6: <decline/> before accepting → 603 Decline');
});
