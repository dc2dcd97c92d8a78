// Issue #14, TS 24.615 CW (spec-digest §11 CW row) with real peers: a scripted CW AS behind
// Kamailio (test/support/scripted-caller.ts) sets up a first call with a W2 client, then sends a
// waiting call — INVITE with a multipart/mixed body (SDP + application/vnd.3gpp.cw+xml, TS 24.615
// A.1) and Alert-Info <urn:alert:service:call-waiting> (RFC 7462). Each client sees the call
// waiting in its own terms, takes it after holding the first (the re-INVITE on Mw is sendonly,
// TS 24.610), and rejects another one busy (486, UDUB). sip-ws: JsSIP gets the body and the
// Alert-Info intact (R-MMTEL-1) but, taking SDP bodies only, answers 415; the AS then retries with
// the Alert-Info alone (RFC 5621 §3, RFC 7462), which JsSIP takes after holding; jsonrpc-ws: call.incoming waiting + attachments (R-MMTEL-3),
// call.answer holdOthers; xmpp-ws: session-initiate with <waiting xmlns='urn:epcscf:mmtel:0'/>.
// A 180 with the call-waiting Alert-Info reaches a caller too (call.progress waiting, <waiting/>).
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { bodyText, callId, getHeader, sdpOf, type SipRequest } from '../../core/sip/index.js';
import { startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import type { RpcWsClient } from '../support/jsonrpc-client.js';
import { epcscfWithThreeClients } from '../support/mmtel-clients.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { registerContactAtCore } from '../support/peers/sipp.js';
import { CALL_WAITING_ALERT_INFO, CW_CONTENT_TYPE_HEADER, CW_PART, CW_XML, cwMultipartBody } from '../support/mmtel-cw.js';
import { ScriptedCaller, type OutgoingDialog } from '../support/scripted-caller.js';
import { gatewayAnswer, readOffer } from '../support/webrtc/gateway-sdp.js';
import type { JsSipUser } from '../support/wic/jssip-user.js';
import { XmppJsUser, jingleIqFromSdp, xml, type XmlNode } from '../support/xmpp-clients.js';

const OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
const JINGLE = 'urn:xmpp:jingle:1';
const RTP_INFO = 'urn:xmpp:jingle:apps:rtp:info:1';
const MMTEL = 'urn:epcscf:mmtel:0';
const ANSWER = gatewayAnswer({
  address: { address: '127.0.0.1', port: 40300 }, ice: { ufrag: 'ansU', pwd: 'answerpasswordanswerpass' },
  fingerprint: { algorithm: 'sha-256', value: Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':') },
  setup: 'active', mid: readOffer(OFFER).mid, ssrc: 4242,
});

interface Rig { epcscf: EpcscfUnderTest; as: ScriptedCaller; carol: JsSipUser; bob: RpcWsClient; alice: XmppJsUser }

/** Kamailio, epcscf with all three plugins (media off: SDP crosses unchanged) and a client each, the CW AS. */
async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const { epcscf, carol, bob, alice } = await epcscfWithThreeClients(t, core.uri('udp'));
  // The AS is also erin at Kamailio (a callee for the caller-side test): sipp registers erin with
  // a contact on port P and exits; the AS then listens on P.
  const port = await allocatePort();
  await registerContactAtCore(core.port, 'erin', port).catch((error: unknown) => { releasePort(port); throw error; });
  const as = await ScriptedCaller.start(core.uri('udp'), port);
  t.teardown(async () => { await as.close(); releasePort(port); });
  return { epcscf, as, carol, bob, alice };
}

/** The first call: a plain INVITE from the AS. */
const firstCall = (as: ScriptedCaller, user: string): OutgoingDialog =>
  as.invite(`sip:${user}@ims.test`, { body: OFFER, contentType: 'application/sdp' });

/** TS 24.615 A.1: the waiting call, marked with the CW body part and the Alert-Info. */
const waitingCall = (as: ScriptedCaller, user: string): OutgoingDialog =>
  as.invite(`sip:${user}@ims.test`, { body: cwMultipartBody(OFFER), contentType: CW_CONTENT_TYPE_HEADER, headers: [['Alert-Info', CALL_WAITING_ALERT_INFO]] });

/** The AS answers the callee's hold re-INVITE on `first` (recvonly, TS 24.610 §4.5.2.1) and returns it. */
async function holdReInvite(t: Test, as: ScriptedCaller, first: OutgoingDialog): Promise<SipRequest> {
  const reinvite = await as.next('INVITE', 10_000);
  t.equal(callId(reinvite.request), first.callId, 'the re-INVITE is in the first call\'s dialog');
  as.uas.reply(reinvite, 200, { sdp: OFFER.replace(/a=sendrecv/g, 'a=recvonly') });
  return reinvite.request;
}

/** The re-INVITE epcscf sent on Mw in `dialog`, and the CW INVITE it relayed to the client. */
function onMw(epcscf: EpcscfUnderTest, dialog: OutgoingDialog): SipRequest | undefined {
  return epcscf.capture.requests('mw', 'out', 'INVITE').find((r) => callId(r) === dialog.callId);
}

function assertCwRelayed(t: Test, epcscf: EpcscfUnderTest, dialog: OutgoingDialog): void {
  const toClient = epcscf.capture.requests('w2', 'out', 'INVITE').find((r) => callId(r) === dialog.callId);
  t.equal(toClient && getHeader(toClient, 'Content-Type'), CW_CONTENT_TYPE_HEADER, 'R-MMTEL-1: multipart/mixed with its boundary, unchanged');
  t.ok(toClient && bodyText(toClient).includes(CW_PART), 'R-MMTEL-1: the CW XML part byte-exact');
  t.equal(toClient && getHeader(toClient, 'Alert-Info'), CALL_WAITING_ALERT_INFO, 'R-MMTEL-1: Alert-Info unchanged');
}

t.test('TS 24.615 CW per plugin: the waiting call is flagged, answered with the first held (sendonly re-INVITE on Mw), another rejected 486', async (t) => {
  const { epcscf, as, carol, bob, alice } = await setUp(t);

  await t.test('R-MMTEL-1 CW row over sip-ws: JsSIP gets the CW body and Alert-Info intact (and answers 415: it takes SDP bodies only); the AS\'s Alert-Info-only retry is answered with the first call held, the next rejected 486', async (t) => {
    const first = firstCall(as, 'carol');
    const one = await carol.nextIncoming(10_000);
    one.answer();
    t.equal((await first.final).status, 200, 'the first call is up');

    const multipart = waitingCall(as, 'carol');
    const refused = await multipart.final;
    const received = carol.capture.frames.find((f) => f.direction === 'received' && f.message?.kind === 'request' && f.message.method === 'INVITE' && callId(f.message) === multipart.callId)?.message;
    t.ok(received && bodyText(received).includes(CW_PART), 'JsSIP received the CW XML part byte-exact');
    t.equal(received && getHeader(received, 'Alert-Info'), CALL_WAITING_ALERT_INFO, 'JsSIP received Alert-Info call-waiting');
    assertCwRelayed(t, epcscf, multipart);
    t.equal(refused.status, 415, 'JsSIP 3.x answers a non-SDP INVITE body 415 (RFC 3261 §21.4.13), relayed to the AS');

    // RFC 5621 §3 / RFC 3261 §21.4.13: the AS retries without the body it cannot send; the Alert-Info still marks CW (RFC 7462).
    const second = as.invite('sip:carol@ims.test', { body: OFFER, contentType: 'application/sdp', headers: [['Alert-Info', CALL_WAITING_ALERT_INFO]] });
    const two = await carol.nextIncoming(10_000);
    const retried = carol.capture.frames.find((f) => f.direction === 'received' && f.message?.kind === 'request' && f.message.method === 'INVITE' && callId(f.message) === second.callId)?.message;
    t.equal(retried && getHeader(retried, 'Alert-Info'), CALL_WAITING_ALERT_INFO, 'JsSIP got the waiting call with Alert-Info call-waiting');
    const holding = one.hold();
    await holdReInvite(t, as, first);
    await holding;
    t.match(sdpOf(onMw(epcscf, first)!), /a=sendonly/, 'TS 24.610: JsSIP\'s hold re-INVITE on Mw is sendonly');
    two.answer();
    t.equal((await second.final).status, 200, 'the waiting call is answered while the first is held');

    const third = as.invite('sip:carol@ims.test', { body: OFFER, contentType: 'application/sdp', headers: [['Alert-Info', CALL_WAITING_ALERT_INFO]] });
    const three = await carol.nextIncoming(10_000);
    three.reject(486);
    t.equal((await third.final).status, 486, 'TS 24.615 UDUB: 486 on Mw');
    await Promise.all([first.bye(), second.bye()]);
  });

  await t.test('R-MMTEL-3 CW row over jsonrpc-ws: call.incoming waiting with the CW attachment; call.answer holdOthers holds the first call; call.reject 486', async (t) => {
    const first = firstCall(as, 'bob');
    const one = await bob.notification('call.incoming', () => true, 10_000);
    t.equal(one['waiting'], undefined, 'the first call is not waiting');
    await bob.request('call.answer', { callId: String(one['callId']), sdp: ANSWER });
    t.equal((await first.final).status, 200, 'the first call is up');
    const second = waitingCall(as, 'bob');
    const two = await bob.notification('call.incoming', (p) => p['callId'] !== one['callId'], 10_000);
    t.equal(two['waiting'], true, 'call.incoming waiting: true');
    t.same(two['attachments'], [{ contentType: 'application/vnd.3gpp.cw+xml', body: CW_XML.replace(/\r\n$/, '') }], 'R-MMTEL-3: the CW XML part as a typed attachment');
    t.equal(two['sdp'], OFFER.replace(/\r\n$/, ''), 'sdp is the SDP part alone');
    const answering = bob.request('call.answer', { callId: String(two['callId']), sdp: ANSWER, holdOthers: true });
    await holdReInvite(t, as, first);
    await answering;
    t.match(sdpOf(onMw(epcscf, first)!), /a=sendonly/, 'TS 24.610: the first call\'s re-INVITE on Mw is sendonly');
    t.equal((await second.final).status, 200, 'the waiting call is answered after the hold');
    const third = waitingCall(as, 'bob');
    const three = await bob.notification('call.incoming', (p) => p['callId'] !== one['callId'] && p['callId'] !== two['callId'], 10_000);
    await bob.request('call.reject', { callId: String(three['callId']), status: 486 });
    t.equal((await third.final).status, 486, 'TS 24.615 UDUB: 486 on Mw');
    await Promise.all([first.bye(), second.bye()]);
  });

  await t.test('CW row over xmpp-ws: session-initiate with <waiting/>; <hold/> on the first session, session-accept of the waiting one; <busy/> → 486', async (t) => {
    const isInitiate = (s: XmlNode): boolean => s.is('iq') && s.attrs['type'] === 'set' && s.getChild('jingle', JINGLE)?.attrs['action'] === 'session-initiate';
    const accept = async (initiate: XmlNode, id: string): Promise<void> => {
      const jingle = initiate.getChild('jingle', JINGLE);
      const mark = alice.received.length;
      await alice.send(jingleIqFromSdp(ANSWER, { to: String(initiate.attrs['from']), id, sid: String(jingle?.attrs['sid']), action: 'session-accept', initiator: String(jingle?.attrs['initiator']), responder: alice.jid }));
      t.equal((await alice.next((s) => s.is('iq') && s.attrs['id'] === id, 5000, mark)).attrs['type'], 'result', `${id} acknowledged`);
    };
    const sidOf = (initiate: XmlNode): string => String(initiate.getChild('jingle', JINGLE)?.attrs['sid']);

    let mark = alice.received.length;
    const first = firstCall(as, 'alice');
    const one = await alice.next(isInitiate, 10_000, mark);
    t.equal(one.getChild('jingle', JINGLE)?.getChild('waiting', MMTEL), undefined, 'the first call has no <waiting/>');
    await accept(one, 'acc-1');
    t.equal((await first.final).status, 200, 'the first call is up');

    mark = alice.received.length;
    const second = waitingCall(as, 'alice');
    const two = await alice.next(isInitiate, 10_000, mark);
    t.ok(two.getChild('jingle', JINGLE)?.getChild('waiting', MMTEL), '<waiting xmlns="urn:epcscf:mmtel:0"/> marks the waiting call');
    await alice.send(xml('iq', { type: 'set', to: String(one.attrs['from']), id: 'hold-1' },
      xml('jingle', { xmlns: JINGLE, action: 'session-info', sid: sidOf(one) }, xml('hold', { xmlns: RTP_INFO }))));
    await holdReInvite(t, as, first);
    t.match(sdpOf(onMw(epcscf, first)!), /a=sendonly/, 'TS 24.610: the first call\'s re-INVITE on Mw is sendonly');
    await accept(two, 'acc-2');
    t.equal((await second.final).status, 200, 'the waiting call is answered');

    mark = alice.received.length;
    const third = waitingCall(as, 'alice');
    const three = await alice.next(isInitiate, 10_000, mark);
    await alice.send(xml('iq', { type: 'set', to: String(three.attrs['from']), id: 'busy-3' },
      xml('jingle', { xmlns: JINGLE, action: 'session-terminate', sid: sidOf(three) }, xml('reason', {}, xml('busy')))));
    t.equal((await third.final).status, 486, 'TS 24.615 UDUB: <busy/> → 486 on Mw');
    await Promise.all([first.bye(), second.bye()]);
  });

  await t.test('TS 24.615 §4.5.5.3.1 toward the caller: a 180 with Alert-Info call-waiting reaches JsSIP intact, JSON-RPC as call.progress waiting, XMPP as session-info <waiting/>', async (t) => {
    const ringWaiting = async (): Promise<void> => {
      const invite = await as.next('INVITE', 10_000);
      as.uas.reply(invite, 180, { toTag: as.uas.newTag(), headers: [['Alert-Info', CALL_WAITING_ALERT_INFO]] });
      as.uas.reply(invite, 486, { toTag: as.uas.newTag() });
    };
    const busyUser = 'sip:erin@ims.test';

    const outgoing = carol.call(busyUser);
    await ringWaiting();
    t.equal((await outgoing.ended(10_000)).status, 486, 'the busy callee\'s 486 ends JsSIP\'s call');
    const ringing = carol.capture.responses('received', 'INVITE').find((r) => r.status === 180);
    t.equal(ringing && getHeader(ringing, 'Alert-Info'), CALL_WAITING_ALERT_INFO, 'R-MMTEL-1: JsSIP gets the 180 with its Alert-Info');

    const { callId: rpcCall } = await bob.request('call.invite', { to: busyUser, sdp: OFFER });
    await ringWaiting();
    const progress = await bob.notification('call.progress', (p) => p['callId'] === rpcCall, 10_000);
    t.equal(progress['waiting'], true, 'call.progress waiting: true');
    await bob.notification('call.ended', (p) => p['callId'] === rpcCall, 10_000);

    const mark = alice.received.length;
    await alice.send(jingleIqFromSdp(OFFER, { to: 'erin@ims.test', id: 'si-w', sid: 'cw-out', action: 'session-initiate', initiator: alice.jid }));
    await ringWaiting();
    const info = await alice.next((s) => s.is('iq') && s.getChild('jingle', JINGLE)?.attrs['action'] === 'session-info' && s.getChild('jingle', JINGLE)?.getChild('waiting', MMTEL) !== undefined, 10_000, mark);
    t.equal(info.getChild('jingle', JINGLE)?.attrs['sid'], 'cw-out', 'session-info <waiting/> on the caller\'s session');
  });
});
