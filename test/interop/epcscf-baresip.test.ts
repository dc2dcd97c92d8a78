// Issue #3 proof with baresip as an IMS-side endpoint: baresip registers directly at the
// Kamailio IMS core stand-in over UDP, a JsSIP user registers through epcscf over WebSocket,
// and calls go both ways. baresip reports its side through ctrl_tcp events; the R-ORIG / R-TERM
// rules are asserted on epcscf's Mw capture and on the frames the JsSIP user saw. Media is not
// asserted here (JsSIP's WebRTC double answers with a static SDP; baresip's RTP goes nowhere).
import t, { type Test } from 'tap';
import { cseq, from, getHeaders, type SipMessage, type SipUri } from '../../core/sip/index.js';
import { isRequest, isResponse, startEpcscf, startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { ownRecordRoutes, sipUris } from '../support/sip-assertions.js';
import { encodeNetstring, NetstringReader, startBaresip, type BaresipPeer } from '../support/peers/baresip.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { JsSipUser } from '../support/wic/jssip-user.js';

interface Rig { core: ImsCoreStandIn; epcscf: EpcscfUnderTest; baresip: BaresipPeer; bob: JsSipUser }

/** Kamailio, epcscf in front of it, baresip "dave" at Kamailio (UDP), JsSIP "bob" through epcscf. */
async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp') });
  t.teardown(() => epcscf.close());
  const ctrlPort = await allocatePort();
  const baresip = await startBaresip({ user: 'dave', password: 'secret', registrar: core.uri('udp'), ctrlPort, autoAnswer: true })
    .catch((error: unknown) => { releasePort(ctrlPort); throw error; });
  t.teardown(async () => { await baresip.stop(); releasePort(ctrlPort); });
  const bob = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'bob', password: 'secret' });
  t.teardown(() => bob.stop());
  const status = await bob.register();
  if (status !== 200) throw new Error(`bob did not register through epcscf (${status})\n${core.output().slice(-2000)}`);
  return { core, epcscf, baresip, bob };
}

const aorOf = (uri: SipUri): string => `${uri.user ?? ''}@${uri.host}`;
const paiOf = (message: SipMessage): string[] => getHeaders(message, 'P-Asserted-Identity').map((v) => v.replace(/\s/g, ''));

t.test('R-TERM-1/2/3: baresip calls a JsSIP user via Kamailio and epcscf; JsSIP answers and hangs up', async (t) => {
  const { epcscf, baresip, bob } = await setUp(t);
  const mark = baresip.events.length;
  await baresip.dial('sip:bob@ims.test');
  const incoming = await bob.nextIncoming();

  // What bob's WebSocket received: the INVITE from dave, caller identity intact.
  const inviteAtBob = bob.capture.requests('received', 'INVITE')[0];
  t.ok(inviteAtBob, 'bob received the INVITE over his WebSocket');
  if (inviteAtBob) {
    const caller = from(inviteAtBob).uri;
    t.equal(caller.kind === 'sip' ? aorOf(caller) : undefined, 'dave@ims.test', 'From: the caller is dave@ims.test');
    // Kamailio asserts nothing for dave, so any PAI that reaches bob must still name dave.
    const pai = sipUris(inviteAtBob, 'P-Asserted-Identity').map(aorOf);
    t.ok(pai.every((identity) => identity === 'dave@ims.test'), `PAI, when present, names dave (got ${JSON.stringify(pai)})`);
    t.same(ownRecordRoutes(inviteAtBob, epcscf).slice(0, 2), ['w2', 'mw'], 'R-TERM-2: double Record-Route at bob, W2 entry on top');
    t.equal(sipUris(inviteAtBob, 'Route').filter((u) => u.port === epcscf.mwPort || u.port === epcscf.w2Port).length, 0,
      'R-TERM-1: our Path Route was consumed, nothing of ours left in Route');
  }

  // JsSIP answers an INVITE with 180 at once: it reached baresip through epcscf and Kamailio.
  const ringing = await baresip.waitForEvent('CALL_RINGING', { from: mark });
  t.equal(ringing.direction, 'outgoing', 'baresip reports CALL_RINGING (180 from bob)');
  incoming.answer(['P-Asserted-Identity: <sip:not-bob@ims.test>']);
  const established = await baresip.waitForEvent('CALL_ESTABLISHED', { from: mark });
  t.equal(established.direction, 'outgoing', 'baresip reports its outgoing call established (200 OK received, ACK sent)');
  t.match(established.peerUri ?? '', /^sip:bob@ims\.test/, 'to bob');
  await incoming.confirmed();
  t.pass('the ACK from baresip reached bob through Kamailio and epcscf');

  // Mw: the terminating INVITE from Kamailio followed the Path stored at registration.
  const termInvite = epcscf.capture.entries.find(isRequest('mw', 'in', 'INVITE'))?.message;
  t.ok(termInvite, 'the INVITE came in on Mw');
  if (termInvite) {
    const top = sipUris(termInvite, 'Route')[0];
    t.equal(top?.host, '127.0.0.1', 'Route points at epcscf');
    t.equal(top?.port, epcscf.mwPort, 'Kamailio routed it to our Path URI (Mw port)');
    t.ok(top?.user, 'R-TERM-1: the Route user part is the flow token');
  }
  const ringingOnMw = epcscf.capture.entries.find(isResponse('mw', 'out', 'INVITE', 180))?.message;
  t.same(ringingOnMw && paiOf(ringingOnMw), ['<sip:bob@ims.test>'], 'R-TERM-3: the 180 toward Kamailio carries bob\'s asserted identity');
  // R-TERM-3 / R-TERM-2: the 200 toward Kamailio.
  const ok = epcscf.capture.entries.find(isResponse('mw', 'out', 'INVITE', 200))?.message;
  t.ok(ok, 'the 200 OK left epcscf on Mw');
  if (ok) {
    t.same(paiOf(ok), ['<sip:bob@ims.test>'], 'R-TERM-3: one PAI, bob\'s registered identity; his forged one removed');
    t.same(ownRecordRoutes(ok, epcscf).slice(0, 2), ['w2', 'mw'], 'R-TERM-2: the 200 carries our double Record-Route');
  }

  incoming.hangup();
  const closed = await baresip.waitForEvent('CALL_CLOSED', { from: mark });
  t.equal(closed.direction, 'outgoing', 'baresip reports the call closed');
  // baresip closes a call ended by the peer's BYE with ECONNRESET; a timeout or an error reads otherwise.
  t.equal(closed.param, 'Connection reset by peer', 'closed by the remote BYE');
  const byeAnswer = await bob.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response'
    && f.message.status >= 200 && cseq(f.message).method === 'BYE', { what: 'final response to bob\'s BYE' });
  t.equal(byeAnswer.message?.kind === 'response' ? byeAnswer.message.status : undefined, 200, 'baresip answered bob\'s BYE with 200');
  t.ok(epcscf.capture.requests('mw', 'out', 'BYE').length >= 1, 'the BYE left epcscf on Mw');
  t.equal(baresip.events.slice(mark).filter((e) => e.type === 'CALL_CLOSED').length, 1, 'exactly one CALL_CLOSED');
});

t.test('R-ORIG-2/4: a JsSIP user calls baresip (auto-answer) through epcscf and Kamailio; JsSIP hangs up', async (t) => {
  const { core, epcscf, baresip, bob } = await setUp(t);
  const mark = baresip.events.length;
  const outgoing = bob.call('sip:dave@ims.test', ['P-Asserted-Identity: <sip:ceo@ims.test>']);
  // answermode=auto: baresip 1.0 answers at once and reports no CALL_INCOMING, only the SDP offer.
  const offer = await baresip.waitForEvent('CALL_REMOTE_SDP', { from: mark });
  t.equal(offer.direction, 'incoming', 'baresip received an incoming INVITE');
  t.match(offer.peerUri ?? '', /^sip:bob@ims\.test/, 'from bob');
  await outgoing.accepted();
  t.pass('bob got the 200 OK from baresip');
  await bob.capture.waitFor((f) => f.direction === 'sent' && f.message?.kind === 'request' && f.message.method === 'ACK', { what: 'ACK from bob' });
  const established = await baresip.waitForEvent('CALL_ESTABLISHED', { from: mark });
  t.equal(established.direction, 'incoming', 'baresip reports the incoming call established');

  // Mw: bob's originating INVITE.
  const origInvite = epcscf.capture.requests('mw', 'out', 'INVITE')[0];
  t.ok(origInvite, 'bob\'s INVITE went out on Mw');
  if (origInvite) {
    const routes = sipUris(origInvite, 'Route');
    t.equal(routes.length, 1, 'R-ORIG-4: one Route entry on Mw');
    t.equal(routes[0]?.user, 'orig', 'R-ORIG-4: Route = the Service-Route <sip:orig@...> from the 200 to REGISTER');
    t.equal(routes[0]?.port, core.port, 'R-ORIG-4: the Service-Route points at the core');
    t.same(paiOf(origInvite), ['<sip:bob@ims.test>'], 'R-ORIG-2: exactly one PAI, bob\'s default IMPU; the forged one removed');
    t.same(ownRecordRoutes(origInvite, epcscf).slice(0, 2), ['mw', 'w2'], 'originating double Record-Route: Mw entry then W2 entry');
  }
  t.ok(epcscf.capture.entries.some(isResponse('mw', 'in', 'INVITE', 200)), 'baresip\'s 200 OK came back in on Mw');
  t.ok(epcscf.capture.requests('mw', 'out', 'ACK').length >= 1, 'the ACK left epcscf on Mw');

  outgoing.hangup();
  const closed = await baresip.waitForEvent('CALL_CLOSED', { from: mark });
  t.equal(closed.direction, 'incoming', 'baresip reports the call closed');
  t.equal(closed.param, 'Connection reset by peer', 'closed by bob\'s BYE');
  const byeAnswer = await bob.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response'
    && f.message.status >= 200 && cseq(f.message).method === 'BYE', { what: 'final response to bob\'s BYE' });
  t.equal(byeAnswer.message?.kind === 'response' ? byeAnswer.message.status : undefined, 200, 'baresip answered the BYE with 200');
  t.equal((await outgoing.ended()).event, 'ended', 'bob\'s call ended normally');
});

t.test('netstrings (ctrl_tcp framing, "<len>:<bytes>,"): payloads split across chunks and sharing one chunk', async (t) => {
  const reader = new NetstringReader();
  const wire = Buffer.concat([encodeNetstring('{"event":true,"type":"CALL_RINGING"}'), encodeNetstring('{"ok":"ü"}')]);
  t.same(reader.push(wire.subarray(0, 5)), [], 'nothing before the first payload is complete');
  t.same(reader.push(wire.subarray(5, wire.length - 3)), ['{"event":true,"type":"CALL_RINGING"}'], 'the first payload once complete');
  t.same(reader.push(wire.subarray(wire.length - 3)), ['{"ok":"ü"}'], 'the length counts bytes, not characters');
  t.throws(() => new NetstringReader().push(Buffer.from('3:abc;')), /trailing comma/, 'a frame without its comma is refused');
});
