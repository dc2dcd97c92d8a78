// xmpp-ws session with a scripted UE (test/support/fake-ua.ts): the stream rules (R-XWS-*),
// SASL failure conditions (RFC 6120 §6.5), IQ refusals (RFC 6120 §8.3) and the Jingle edges
// the real-client tests do not reach (trickle buffering, unknown sessions, reasons → SIP status).
import t from 'tap';
import { pino } from 'pino';
import { DEFAULT_XMPP_WS_OPTIONS, XmppWsSession, type XmppWsOptions } from '../../../../plugins/xmpp-ws/index.js';
import { fakeUeFactory, type FakeUeScript, type FakeVirtualUe } from '../../../support/fake-ua.js';

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';
const PLAIN = (user: string, password: string): string => `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}</auth>`;
const JINGLE = 'urn:xmpp:jingle:1';
const OFFER = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n';

interface Rig {
  session: XmppWsSession;
  frames: string[];
  closed: { code?: number; reason?: string } | undefined;
  made: FakeVirtualUe[];
  floods: number;
}

function rig(script: FakeUeScript = {}, options: Partial<XmppWsOptions> = {}): Rig {
  const factory = fakeUeFactory(script);
  const state: Rig = { frames: [], closed: undefined, made: factory.made, floods: 0 } as unknown as Rig;
  state.session = new XmppWsSession({
    id: 'c1', remote: { address: '127.0.0.1', port: 1 },
    send: async (frame) => { state.frames.push(frame); },
    close: (code, reason) => { state.closed = { ...(code !== undefined ? { code } : {}), ...(reason !== undefined ? { reason } : {}) }; },
  }, {
    createUe: (identity) => factory.create({ identity, secure: false, transport: { send: async () => undefined } }),
    log: pino({ level: 'silent' }),
    options: { ...DEFAULT_XMPP_WS_OPTIONS, domain: 'ims.test', trickleWaitMs: 50, ...options },
    now: Date.now,
    reportFlood: () => { state.floods += 1; },
  });
  return state;
}

const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function loggedIn(script: FakeUeScript = {}, options: Partial<XmppWsOptions> = {}): Promise<Rig> {
  const r = rig(script, options);
  await r.session.onFrame(OPEN);
  await r.session.onFrame(PLAIN('alice', 'alicepw'));
  await r.session.onFrame(OPEN);
  await r.session.onFrame('<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>web</resource></bind></iq>');
  r.frames.length = 0;
  return r;
}

const last = (r: Rig): string => r.frames.at(-1) ?? '';

t.test('R-XWS-2: a binary frame ends the stream with unsupported-encoding', async (t) => {
  const r = rig();
  await r.session.onFrame(new Uint8Array([60, 111, 112, 101, 110]));
  t.match(r.frames[0], /<unsupported-encoding /);
  t.match(r.frames[1], /^<close /);
  t.equal(r.closed?.code, 1000);
});

t.test('RFC 6120 §4.9.3.12: a stanza before authentication is not-authorized', async (t) => {
  const r = rig();
  await r.session.onFrame(OPEN);
  await r.session.onFrame('<message xmlns="jabber:client" to="bob@ims.test"><body>x</body></message>');
  t.match(r.frames.join(''), /<not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
  t.ok(r.closed);
});

t.test('RFC 6120 §6.5: invalid-mechanism, incorrect-encoding, then the stream ends after maxAuthAttempts', async (t) => {
  const r = rig({}, { maxAuthAttempts: 3 });
  await r.session.onFrame(OPEN);
  await r.session.onFrame('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="SCRAM-SHA-1">biws</auth>');
  t.match(last(r), /<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><invalid-mechanism\/><\/failure>/, 'SCRAM is not offered');
  await r.session.onFrame('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">***</auth>');
  t.match(last(r), /<incorrect-encoding\/>/);
  t.equal(r.made.length, 0, 'no UE and no REGISTER for a malformed attempt');
  await r.session.onFrame(PLAIN('bob@example.org', 'x'));
  t.match(r.frames.join(''), /<policy-violation /, 'a third failure ends the stream');
  t.ok(r.closed);
});

t.test('R-XWS-10: a refused REGISTER is <failure><not-authorized/>; the UE is dropped', async (t) => {
  const r = rig({ registerOutcome: { state: 'failed', status: 403, reason: 'Forbidden' } });
  await r.session.onFrame(OPEN);
  await r.session.onFrame(PLAIN('alice', 'nope'));
  t.match(last(r), /<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized\/><\/failure>/);
  t.equal(r.made[0]?.options.identity.impu, 'sip:alice@ims.test', 'the IMPU is sip:authcid@domain');
  t.equal(r.made[0]?.options.identity.impi, 'alice@ims.test', 'the IMPI is authcid@domain');
  t.equal(r.made[0]?.options.identity.password, 'nope', 'the PLAIN password answers the digest');
  t.notOk(r.closed, 'the client may try again');
});

t.test('RFC 6120 §8: unknown IQs are feature-not-implemented, unmapped JIDs service-unavailable, never silence', async (t) => {
  const r = await loggedIn();
  await r.session.onFrame('<iq xmlns="jabber:client" type="get" id="v1" to="ims.test"><query xmlns="jabber:iq:version"/></iq>');
  await r.session.onFrame('<iq xmlns="jabber:client" type="get" id="v2" to="x@example.org"><ping xmlns="urn:xmpp:ping"/></iq>');
  await r.session.onFrame('<iq xmlns="jabber:client" type="set" id="v3" to="bob@ims.test"><query xmlns="jabber:iq:private"/></iq>');
  await r.session.onFrame('<iq xmlns="jabber:client" type="get" id="v4"/>');
  await tick();
  const byId = (id: string): string => r.frames.find((f) => f.includes(`id="${id}"`)) ?? '';
  t.match(byId('v1'), /type="error"[\s\S]*<feature-not-implemented /);
  t.match(byId('v2'), /type="error"[\s\S]*<service-unavailable /);
  t.match(byId('v3'), /type="error"[\s\S]*<feature-not-implemented /, 'an unknown IQ to a mapped user');
  t.match(byId('v4'), /type="error"[\s\S]*<bad-request /, 'an IQ without payload');
});

t.test('F-JNG-2/5: an unknown action is bad-request; a transport-info for no session is unknown-session', async (t) => {
  const r = await loggedIn();
  await r.session.onFrame(`<iq xmlns="jabber:client" type="set" id="j1" to="bob@ims.test"><jingle xmlns="${JINGLE}" action="session-dance" sid="s1"/></iq>`);
  await r.session.onFrame(`<iq xmlns="jabber:client" type="set" id="j2" to="bob@ims.test"><jingle xmlns="${JINGLE}" action="transport-info" sid="nope"/></iq>`);
  await tick();
  t.match(r.frames.find((f) => f.includes('id="j1"')), /<bad-request /);
  t.match(r.frames.find((f) => f.includes('id="j2"')), /<item-not-found [\s\S]*<unknown-session xmlns="urn:xmpp:jingle:errors:1"\/>/);
});

const INITIATE = `<iq xmlns="jabber:client" type="set" id="si" to="bob@ims.test"><jingle xmlns="${JINGLE}" action="session-initiate" sid="s1" initiator="alice@ims.test/web">
<content creator="initiator" name="0"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"><payload-type id="0" name="PCMU" clockrate="8000"/></description>
<transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="uf1" pwd="pwdpwdpwdpwdpwdpwdpwdpw"><fingerprint xmlns="urn:xmpp:jingle:apps:dtls:0" hash="sha-256" setup="actpass">AA:BB</fingerprint></transport></content></jingle></iq>`.replace(/\n/g, '');
const TRICKLE = `<iq xmlns="jabber:client" type="set" id="ti" to="bob@ims.test"><jingle xmlns="${JINGLE}" action="transport-info" sid="s1"><content creator="initiator" name="0"><transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="uf1"><candidate component="1" foundation="1" generation="0" id="c1" ip="192.0.2.7" port="50000" priority="2130706431" protocol="udp" type="host"/></transport></content></jingle></iq>`;

t.test('XEP-0176 trickle: candidates that arrive before the INVITE leaves are in its SDP; later ones are absorbed', async (t) => {
  const r = await loggedIn();
  await r.session.onFrame(INITIATE);
  await r.session.onFrame(TRICKLE);
  await tick(120);
  const ue = r.made[0];
  const call = ue?.actions.find((a) => a.method === 'call');
  t.equal(call?.args[0], 'sip:bob@ims.test', 'RFC 7247: bob@ims.test is sip:bob@ims.test');
  const sdp = (call?.args[1] as { sdp: string } | undefined)?.sdp ?? '';
  t.match(sdp, /a=candidate:1 1 udp 2130706431 192\.0\.2\.7 50000 typ host/, 'the trickled candidate is in the offer');
  t.match(sdp, /a=fingerprint:sha-256 AA:BB/);
  await r.session.onFrame(TRICKLE.replace('id="ti"', 'id="ti2"'));
  await tick();
  t.match(r.frames.find((f) => f.includes('id="ti2"')), /type="result"/, 'a late transport-info is acknowledged (and absorbed, R-SDP-9)');
  t.equal(ue?.actions.filter((a) => a.method === 'call').length, 1, 'no second INVITE');
});

t.test('§10.6: an incoming call ended by the client before accepting is the mapped final response; a non-JMI client gets a direct session-initiate', async (t) => {
  const r = await loggedIn();
  const ue = r.made[0]!;
  const call = ue.incoming({ uri: 'sip:bob@ims.test' }, OFFER);
  await tick();
  const initiate = r.frames.find((f) => f.includes('action="session-initiate"')) ?? '';
  t.match(initiate, /from="bob@ims\.test"/, 'the caller\'s JID');
  const sid = /sid="([^"]+)"/.exec(initiate)?.[1];
  await r.session.onFrame(`<iq xmlns="jabber:client" type="set" id="te" to="bob@ims.test"><jingle xmlns="${JINGLE}" action="session-terminate" sid="${sid}"><reason><busy/></reason></jingle></iq>`);
  await tick();
  t.same(call.actions.find((a) => a.method === 'reject')?.args.slice(0, 1), [486], '<busy/> → 486 Busy Here');

  const offerless = ue.incoming({ uri: 'sip:bob@ims.test' }, null);
  await tick();
  t.same(offerless.actions.find((a) => a.method === 'reject')?.args.slice(0, 1), [488], 'an offerless INVITE has no Jingle form: 488');
});

t.test('a flood ends the stream with policy-violation and is reported', async (t) => {
  const r = await loggedIn({}, { floodBurst: 5, floodRatePerSecond: 1 });
  for (let i = 0; i < 10; i++) await r.session.onFrame(`<iq xmlns="jabber:client" type="get" id="p${i}"><ping xmlns="urn:xmpp:ping"/></iq>`);
  t.match(r.frames.join(''), /<policy-violation /);
  t.equal(r.closed?.code, 1008);
  t.equal(r.floods, 1, 'counted once (epcscf_w2_refused_total{reason="flood"})');
});

t.test('issue #14 DTMF: an INFO application/dtmf-relay from the far end reaches the client as XEP-0181 <dtmf/> session-info; other INFO bodies do not', async (t) => {
  const r = await loggedIn();
  const ue = r.made[0]!;
  const call = ue.incoming({ uri: 'sip:bob@ims.test' }, OFFER);
  await tick();
  const sid = /sid="([^"]+)"/.exec(r.frames.find((f) => f.includes('action="session-initiate"')) ?? '')?.[1];
  t.ok(sid, 'the call reached the client');
  r.frames.length = 0;
  call.emit('info', { contentType: 'application/dtmf-relay', body: 'Signal=#\r\nDuration=160\r\n' });
  call.emit('info', { contentType: 'application/xml', body: '<x/>' });
  await tick();
  t.equal(r.frames.length, 1, 'one session-info, for the DTMF INFO only');
  t.match(r.frames[0], new RegExp(`action="session-info" sid="${sid}"`));
  t.match(r.frames[0], /<dtmf xmlns="urn:xmpp:jingle:dtmf:0" code="#" duration="160"\/>/, 'XEP-0181 code and duration');
});
