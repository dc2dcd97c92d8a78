// Issue #14, basic call robustness on sip-ws: a real client (SIP.js, which implements RFC 3262;
// JsSIP 3.x has no PRACK) registers through epcscf (sip-ws plugin, P-CSCF, IMS-ALG driving the
// in-process media-gw) with Kamailio as the IMS core stand-in, and calls a far end the test drives
// step by step (test/support/scripted-uas.ts) via Kamailio. Each check asserts what reached the
// client AND what crossed Mw: the P-CSCF passes the headers the service needs (R-MMTEL-1/2), and
// the IMS-ALG rewrites every SDP (plain RTP/AVP from the gateway on Mw, WebRTC toward the WIC).
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { bodyText, getHeader, getHeaders, type SipMessage, type SipRequest } from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { startGateway } from '../support/media-gateways.js';
import { plainSdp, ScriptedUas } from '../support/scripted-uas.js';
import { gatewayAnswer, readOffer } from '../support/webrtc/gateway-sdp.js';
import { SipJsUser } from '../support/wic/sipjs-user.js';

const CHROME_AUDIO_OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
const CALLER_FINGERPRINT = readOffer(CHROME_AUDIO_OFFER).fingerprints[0]?.value ?? '';
const GATEWAY_HOST = '127.0.0.1';
const WIC_ANSWER_FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');

/** The WIC's SDP: the Chrome offer, or a browser answer to a (gateway's WebRTC) offer. */
function browserSdp(remoteOffer: string | undefined): string {
  if (remoteOffer === undefined) return CHROME_AUDIO_OFFER;
  return gatewayAnswer({
    address: { address: '127.0.0.1', port: 40100 }, ice: { ufrag: 'ansU', pwd: 'answerpasswordanswerpass' },
    fingerprint: { algorithm: 'sha-256', value: WIC_ANSWER_FINGERPRINT }, setup: 'active', mid: readOffer(remoteOffer).mid, ssrc: 4242,
  });
}

interface Rig { epcscf: EpcscfUnderTest; far: ScriptedUas; alice: SipJsUser }

async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const gateway = await startGateway('media-gw');
  t.teardown(() => gateway.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), media: gateway.control });
  t.teardown(() => epcscf.close());
  const far = await ScriptedUas.start();
  t.teardown(() => far.close());
  const alice = await SipJsUser.connect({ wsUrl: epcscf.wsUrl, user: 'alice', password: 'alicepw', sipExtension100rel: 'Supported', localSdp: browserSdp });
  t.teardown(() => alice.stop());
  const status = await alice.register();
  if (status !== 200) throw new Error(`alice (SIP.js) did not register: ${status}\n${core.output().slice(-2000)}`);
  return { epcscf, far, alice };
}

const sdpOf = (message: SipMessage | undefined): string => (message === undefined ? '' : bodyText(message));

/** Plain RTP/AVP from the gateway: no DTLS or ICE reaches the IMS (R-ALG-4). */
function assertPlainFromGateway(t: Test, sdp: string, what: string): void {
  t.match(sdp, /^m=audio [1-9]\d* RTP\/AVP /m, `${what}: plain RTP/AVP`);
  t.match(sdp, new RegExp(`^c=IN IP4 ${GATEWAY_HOST.replace(/\./g, '\\.')}\\s*$`, 'm'), `${what}: the gateway's address`);
  t.notMatch(sdp, /SAVPF|a=fingerprint|a=ice-ufrag|a=candidate/, `${what}: no WebRTC transport leaks to the IMS`);
  t.notMatch(sdp, /^m=audio 41000 /m, `${what}: not the far end's own port`);
}

/** WebRTC from the gateway: DTLS-SRTP, ICE, a fingerprint that is not the WIC's own. */
function assertWebRtcFromGateway(t: Test, sdp: string, what: string): void {
  t.match(sdp, /^m=audio [1-9]\d* UDP\/TLS\/RTP\/SAVPF /m, `${what}: UDP/TLS/RTP/SAVPF`);
  t.match(sdp, /^a=fingerprint:sha-256 \S+/m, `${what}: a DTLS fingerprint`);
  t.match(sdp, /^a=ice-ufrag:\S+/m, `${what}: ICE credentials`);
  t.notOk(sdp.includes(CALLER_FINGERPRINT), `${what}: the gateway's fingerprint, not the WIC's`);
  t.notMatch(sdp, /^m=audio 41000 /m, `${what}: not the far end's own port`);
}

/** All values of a header, comma-joined (a UA may send Supported as several header lines). */
const headerOf = (message: SipMessage | undefined, name: string): string => (message ? getHeaders(message, name).join(', ') : '');

t.test('R-MMTEL-2, RFC 3262 §3/§4: 183 with SDP and Require: 100rel reaches the SIP.js WIC, its PRACK crosses Mw, 200 PRACK then 200 INVITE; every SDP rewritten by the IMS-ALG', async (t) => {
  const { epcscf, far, alice } = await setUp(t);
  const call = alice.call(far.uri());
  const invite = await far.next('INVITE');
  // RFC 3262 §3: the UAC's Supported: 100rel reaches the far end; the offer is the gateway's plain RTP.
  t.match(headerOf(invite.request, 'Supported'), /100rel/, 'the INVITE at the far end still says Supported: 100rel');
  assertPlainFromGateway(t, sdpOf(invite.request), 'the offer at the far end');
  const toTag = far.newTag();
  far.reply(invite, 183, { toTag, sdp: plainSdp(1), headers: [['Require', '100rel'], ['RSeq', '1']] });
  const prack = await far.next('PRACK');
  // RFC 3262 §7.2: RAck = RSeq, CSeq number and method of the INVITE.
  t.match(headerOf(prack.request, 'RAck'), /^1\s+\d+\s+INVITE$/, 'the PRACK at the far end carries RAck: 1 <cseq> INVITE');
  far.reply(prack, 200);
  far.reply(invite, 200, { toTag });
  await call.established(10_000);
  const ack = await far.next('ACK');
  t.ok(ack.request, 'the ACK reached the far end');

  // What reached the WIC: the 183 reliable, its answer WebRTC from the gateway; the PRACK answered 200.
  const early = alice.capture.responses('received', 'INVITE').find((r) => r.status === 183);
  t.ok(early, 'the 183 reached the WIC');
  t.match(headerOf(early, 'Require'), /100rel/, 'the 183 at the WIC keeps Require: 100rel');
  t.equal(headerOf(early, 'RSeq'), '1', 'the 183 at the WIC keeps RSeq: 1');
  assertWebRtcFromGateway(t, sdpOf(early), 'the early answer at the WIC');
  t.equal(alice.capture.requests('sent', 'PRACK').length, 1, 'SIP.js sent one PRACK');
  t.ok(alice.capture.responses('received', 'PRACK').some((r) => r.status === 200), 'the WIC got 200 to its PRACK');
  // What crossed Mw.
  const mwEarly = epcscf.capture.responses('mw', 'in', 'INVITE').find((r) => r.status === 183);
  t.match(headerOf(mwEarly, 'Require'), /100rel/, 'Mw: the 183 came in with Require: 100rel');
  t.equal(epcscf.capture.requests('mw', 'out', 'PRACK').length, 1, 'Mw: the PRACK left the P-CSCF once');
  t.ok(epcscf.capture.responses('mw', 'in', 'PRACK').some((r) => r.status === 200), 'Mw: 200 PRACK came back');
  const mwOffer = epcscf.capture.requests('mw', 'out', 'INVITE')[0];
  t.match(headerOf(mwOffer, 'Supported'), /100rel/, 'Mw: the INVITE carries Supported: 100rel');
  assertPlainFromGateway(t, sdpOf(mwOffer), 'Mw: the INVITE offer');
  const order = alice.capture.frames.flatMap((f) => {
    const m = f.message;
    if (!m) return [];
    return m.kind === 'response' ? [`${f.direction} ${m.status} ${getHeader(m, 'CSeq')?.split(/\s+/)[1] ?? ''}`] : [`${f.direction} ${m.method}`];
  }).filter((s) => /183|PRACK|200 INVITE/.test(s));
  t.same(order.filter((s) => !/^sent 200|^received PRACK/.test(s)).slice(0, 4),
    ['received 183 INVITE', 'sent PRACK', 'received 200 PRACK', 'received 200 INVITE'], 'the WIC saw 183, sent PRACK, got 200 PRACK, then 200 INVITE');

  await call.hangup();
  const bye = await far.next('BYE');
  far.reply(bye, 200);
  await call.terminated();
});

t.test('R-MMTEL-2, RFC 3311 §5.2: an UPDATE before the answer (early dialog, after the PRACK) crosses Mw to the WIC with its offer rewritten to WebRTC; the WIC\'s answer (SIP.js has no UPDATE: 405) reaches the far end and the call still completes', async (t) => {
  const { epcscf, far, alice } = await setUp(t);
  const call = alice.call(far.uri());
  const invite = await far.next('INVITE');
  const toTag = far.newTag();
  far.reply(invite, 183, { toTag, sdp: plainSdp(1), headers: [['Require', '100rel'], ['RSeq', '1']] });
  far.reply(await far.next('PRACK'), 200);
  const updateAnswer = await far.request(invite.request, toTag, 'UPDATE', { sdp: plainSdp(2, 41002) });
  const atWic = alice.capture.requests('received', 'UPDATE')[0];
  t.ok(atWic, 'the early UPDATE reached the WIC over its WebSocket');
  assertWebRtcFromGateway(t, sdpOf(atWic), 'the UPDATE offer at the WIC');
  const mwIn = epcscf.capture.requests('mw', 'in', 'UPDATE')[0];
  t.ok(mwIn, 'Mw: the UPDATE came in');
  t.match(sdpOf(mwIn), /^m=audio 41002 RTP\/AVP /m, 'Mw: the far end\'s own new offer');
  const wicAnswer = alice.capture.responses('sent', 'UPDATE')[0];
  t.equal(updateAnswer.status, wicAnswer?.status, `the WIC's ${wicAnswer?.status ?? '?'} to the UPDATE reached the far end unchanged`);
  t.ok(epcscf.capture.responses('mw', 'out', 'UPDATE').some((r) => r.status === updateAnswer.status), 'Mw: the answer to the UPDATE left the P-CSCF');
  if (updateAnswer.status === 200) {
    assertPlainFromGateway(t, sdpOf(updateAnswer), 'the UPDATE answer at the far end');
  }
  far.reply(invite, 200, { toTag });
  await call.established(10_000);
  await far.next('ACK');
  t.pass('the call was answered after the early UPDATE');
  await call.hangup();
  far.reply(await far.next('BYE'), 200);
  await call.terminated();
});

/** A confirmed call WIC → far end (INVITE, 200 with SDP, ACK); returns the far end's INVITE and To tag. */
async function establishedCall(rig: Rig): Promise<{ call: ReturnType<SipJsUser['call']>; invite: SipRequest; toTag: string }> {
  const call = rig.alice.call(rig.far.uri());
  const invite = await rig.far.next('INVITE');
  const toTag = rig.far.newTag();
  rig.far.reply(invite, 200, { toTag, sdp: plainSdp(1) });
  await call.established(10_000);
  await rig.far.next('ACK');
  return { call, invite: invite.request, toTag };
}

t.test('R-MMTEL-2, RFC 3261 §14.1/§14.2: re-INVITE both ways in a confirmed call: from the WIC (offer rewritten to plain RTP on Mw, answer to WebRTC) and from the far end (offer to WebRTC at the WIC, answer plain on Mw), each ACKed end to end', async (t) => {
  const rig = await setUp(t);
  const { epcscf, far, alice } = rig;
  const { call, invite, toTag } = await establishedCall(rig);

  // §14.1: the WIC re-offers.
  void call.session.invite().catch(() => undefined);
  const reinvite = await far.next('INVITE');
  t.equal(getHeader(reinvite.request, 'To')?.includes(toTag), true, 'the re-INVITE at the far end is in our dialog (To tag)');
  assertPlainFromGateway(t, sdpOf(reinvite.request), 'the WIC\'s re-offer at the far end');
  far.reply(reinvite, 200, { sdp: plainSdp(3, 41003) });
  const reAck = await far.next('ACK');
  t.ok(reAck.request, 'the ACK to the re-INVITE reached the far end');
  const okAtWic = alice.capture.responses('received', 'INVITE').filter((r) => r.status === 200)[1];
  t.ok(okAtWic, 'the 200 to the re-INVITE reached the WIC');
  assertWebRtcFromGateway(t, sdpOf(okAtWic), 'the re-answer at the WIC');
  t.equal(epcscf.capture.requests('mw', 'out', 'INVITE').length, 2, 'Mw: INVITE and re-INVITE left the P-CSCF');
  t.match(sdpOf(epcscf.capture.responses('mw', 'in', 'INVITE').filter((r) => r.status === 200)[1]), /^m=audio 41003 RTP\/AVP /m, 'Mw: the far end\'s re-answer came in as sent');

  // §14.2: the far end re-offers.
  const answer = await far.request(invite, toTag, 'INVITE', { sdp: plainSdp(4, 41004) });
  t.equal(answer.status, 200, 'the WIC accepted the far end\'s re-INVITE');
  assertPlainFromGateway(t, sdpOf(answer), 'the WIC\'s re-answer at the far end');
  const reofferAtWic = alice.capture.requests('received', 'INVITE')[0];
  t.ok(reofferAtWic, 'the far end\'s re-INVITE reached the WIC');
  assertWebRtcFromGateway(t, sdpOf(reofferAtWic), 'the far end\'s re-offer at the WIC');
  t.match(sdpOf(epcscf.capture.requests('mw', 'in', 'INVITE')[0]), /^m=audio 41004 RTP\/AVP /m, 'Mw: the re-offer came in as sent');
  await alice.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'request' && f.message.method === 'ACK', { what: 'ACK at the WIC' });
  t.pass('the far end\'s ACK reached the WIC');

  await call.hangup();
  far.reply(await far.next('BYE'), 200);
  await call.terminated();
});

t.test('R-MMTEL-1/2, RFC 4028 §7/§8/§9: Session-Expires, Min-SE and Supported/Require: timer cross the P-CSCF intact both ways; the refresh re-INVITE from the WIC and from the far end goes through', async (t) => {
  const { epcscf, far, alice } = await setUp(t);
  const call = alice.call(far.uri(), ['Session-Expires: 1800;refresher=uac', 'Min-SE: 90']);
  const invite = await far.next('INVITE');
  // §7.1: the UAC's timer request reaches the UAS as sent.
  t.equal(headerOf(invite.request, 'Session-Expires'), '1800;refresher=uac', 'Session-Expires intact at the far end');
  t.equal(headerOf(invite.request, 'Min-SE'), '90', 'Min-SE intact at the far end');
  t.equal(headerOf(epcscf.capture.requests('mw', 'out', 'INVITE')[0], 'Session-Expires'), '1800;refresher=uac', 'Mw: Session-Expires left the P-CSCF intact');
  const toTag = far.newTag();
  // §9: the UAS confirms the timer; Require: timer tells the UAC it is the refresher.
  far.reply(invite, 200, { toTag, sdp: plainSdp(1), headers: [['Session-Expires', '1800;refresher=uac'], ['Require', 'timer'], ['Supported', 'timer']] });
  await call.established(10_000);
  await far.next('ACK');
  const ok = alice.capture.responses('received', 'INVITE').find((r) => r.status === 200);
  t.equal(headerOf(ok, 'Session-Expires'), '1800;refresher=uac', 'the 200 at the WIC keeps Session-Expires');
  t.match(headerOf(ok, 'Require'), /\btimer\b/, 'the 200 at the WIC keeps Require: timer');
  t.equal(headerOf(epcscf.capture.responses('mw', 'in', 'INVITE').find((r) => r.status === 200), 'Session-Expires'), '1800;refresher=uac', 'Mw: the 200 came in with Session-Expires');

  // §7.4 / §10: the refresher (the WIC) refreshes with a re-INVITE carrying Session-Expires.
  void call.session.invite({ requestOptions: { extraHeaders: ['Session-Expires: 1800;refresher=uac', 'Min-SE: 90', 'Supported: timer'] } }).catch(() => undefined);
  const refresh = await far.next('INVITE');
  t.equal(headerOf(refresh.request, 'Session-Expires'), '1800;refresher=uac', 'the WIC\'s refresh re-INVITE reaches the far end with Session-Expires');
  t.equal(headerOf(refresh.request, 'Min-SE'), '90', 'and with Min-SE');
  assertPlainFromGateway(t, sdpOf(refresh.request), 'the refresh offer at the far end');
  far.reply(refresh, 200, { sdp: plainSdp(2), headers: [['Session-Expires', '1800;refresher=uac'], ['Require', 'timer']] });
  await far.next('ACK');
  const refreshOk = alice.capture.responses('received', 'INVITE').filter((r) => r.status === 200)[1];
  t.equal(headerOf(refreshOk, 'Session-Expires'), '1800;refresher=uac', 'the refresh 200 at the WIC keeps Session-Expires');

  // §8: a far-end refresh (e.g. after a refresher change) reaches the WIC with its timer headers.
  const farRefresh = await far.request(invite.request, toTag, 'INVITE', {
    sdp: plainSdp(3), headers: [['Session-Expires', '1800;refresher=uas'], ['Min-SE', '90'], ['Supported', 'timer']],
  });
  t.equal(farRefresh.status, 200, 'the far end\'s refresh re-INVITE was answered 200 by the WIC');
  const atWic = alice.capture.requests('received', 'INVITE')[0];
  t.equal(headerOf(atWic, 'Session-Expires'), '1800;refresher=uas', 'the far end\'s refresh reaches the WIC with Session-Expires');
  t.equal(headerOf(atWic, 'Min-SE'), '90', 'and with Min-SE');
  t.match(headerOf(atWic, 'Supported'), /\btimer\b/, 'and with Supported: timer');

  await call.hangup();
  far.reply(await far.next('BYE'), 200);
  await call.terminated();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('R-MMTEL-2, RFC 3261 §14.1/§14.2: re-INVITE glare: each side answers the other 491 Request Pending through the P-CSCF, both retries then succeed with SDP still rewritten by the IMS-ALG', async (t) => {
  const rig = await setUp(t);
  const { epcscf, far, alice } = rig;
  const { call, invite, toTag } = await establishedCall(rig);

  void call.session.invite().catch(() => undefined);
  const wicReinvite = await far.next('INVITE'); // held: the far end's own re-INVITE crosses it
  const collided = await far.request(invite, toTag, 'INVITE', { sdp: plainSdp(5, 41005) });
  t.equal(collided.status, 491, '§14.2: the WIC answered the far end\'s re-INVITE 491 (its own is pending)');
  t.ok(alice.capture.responses('sent', 'INVITE').some((r) => r.status === 491), 'the WIC sent the 491');
  t.ok(epcscf.capture.responses('mw', 'out', 'INVITE').some((r) => r.status === 491), 'Mw: the 491 left the P-CSCF');
  far.reply(wicReinvite, 491);
  await alice.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response' && f.message.status === 491, { what: '491 at the WIC' });
  t.pass('the far end\'s 491 reached the WIC');
  t.ok(epcscf.capture.responses('mw', 'in', 'INVITE').some((r) => r.status === 491), 'Mw: the 491 came in');

  // §14.1: the non-owner of the Call-ID retries within 0-2 s; the owner (the WIC) after 2.1-4 s.
  await sleep(300);
  const beforeRetry = alice.capture.frames.length;
  const retried = await far.request(invite, toTag, 'INVITE', { sdp: plainSdp(6, 41006) });
  t.equal(retried.status, 200, 'the far end\'s retry was accepted');
  assertPlainFromGateway(t, sdpOf(retried), 'the WIC\'s answer to the retry, at the far end');
  assertWebRtcFromGateway(t, sdpOf(alice.capture.requests('received', 'INVITE').at(-1)), 'the retried offer at the WIC');
  await alice.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'request' && f.message.method === 'ACK', { what: 'ACK to the retry at the WIC', from: beforeRetry });

  const beforeWicRetry = alice.capture.frames.length;
  void call.session.invite().catch(() => undefined);
  const wicRetry = await far.next('INVITE');
  assertPlainFromGateway(t, sdpOf(wicRetry.request), 'the WIC\'s retried offer at the far end');
  far.reply(wicRetry, 200, { sdp: plainSdp(7, 41007) });
  await far.next('ACK');
  const okAtWic = await alice.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response' && f.message.status === 200
    && getHeader(f.message, 'CSeq')?.endsWith('INVITE') === true && f.message.body.length > 0, { what: '200 to the WIC\'s retry', from: beforeWicRetry });
  assertWebRtcFromGateway(t, okAtWic.message ? bodyText(okAtWic.message) : '', 'the answer to the WIC\'s retry');

  await call.hangup();
  far.reply(await far.next('BYE'), 200);
  await call.terminated();
  t.pass('the call survived the glare and ended normally');
});

t.test('R-MMTEL-2, RFC 3261 §12.1.2/§13.2.2.4: forking with two early dialogs: both 183s (different To tags) reach the WIC with SDP rewritten, the second one\'s 200 wins and the ACK and BYE go to that dialog', async (t) => {
  const { epcscf, far, alice } = await setUp(t);
  const call = alice.call(far.uri());
  const invite = await far.next('INVITE');
  const first = far.newTag();
  const second = far.newTag();
  far.reply(invite, 183, { toTag: first, sdp: plainSdp(1, 41001) });
  far.reply(invite, 183, { toTag: second, sdp: plainSdp(1, 41002) });
  await alice.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response' && f.message.status === 183
    && (getHeader(f.message, 'To') ?? '').includes(second), { what: 'the second 183 at the WIC' });
  far.reply(invite, 200, { toTag: second, sdp: plainSdp(1, 41002) });
  await call.established(10_000);
  const ack = await far.next('ACK');
  t.match(headerOf(ack.request, 'To'), new RegExp(`tag=${second}`), 'the ACK went to the winning (second) dialog');

  const earlies = alice.capture.responses('received', 'INVITE').filter((r) => r.status === 183);
  t.same(earlies.map((r) => /tag=([^;\s]+)/.exec(headerOf(r, 'To'))?.[1]), [first, second], 'both 183s reached the WIC, each with its own To tag');
  earlies.forEach((r, i) => assertWebRtcFromGateway(t, sdpOf(r), `early answer ${i + 1} at the WIC`));
  const mwEarlies = epcscf.capture.responses('mw', 'in', 'INVITE').filter((r) => r.status === 183);
  t.same(mwEarlies.map((r) => /^m=audio (\d+)/m.exec(sdpOf(r))?.[1]), ['41001', '41002'], 'Mw: both early answers came in as sent');
  const ok = alice.capture.responses('received', 'INVITE').find((r) => r.status === 200);
  t.match(headerOf(ok, 'To'), new RegExp(`tag=${second}`), 'the 200 at the WIC is the second dialog\'s');
  assertWebRtcFromGateway(t, sdpOf(ok), 'the final answer at the WIC');

  await call.hangup();
  const bye = await far.next('BYE');
  t.match(headerOf(bye.request, 'To'), new RegExp(`tag=${second}`), 'the BYE went to the winning dialog');
  far.reply(bye, 200);
  await call.terminated();
});
