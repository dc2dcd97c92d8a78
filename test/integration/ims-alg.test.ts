// The IMS-ALG inside the P-CSCF (issue #4): which ng command each SDP gets, with which tags, what
// is refused before anything is allocated, and what releases a call's media. A recording gateway
// (test/unit/ng/fake-gateway.ts) stands behind the same InProcessMediaControl the product uses; the
// media itself is proven with our media-gw and rtpengine in test/interop/.
import t, { type Test } from 'tap';
import { createSocket } from 'node:dgram';
import { InProcessMediaControl, NgMediaControl } from '../../core/pcscf/alg/media-control.js';
import { createMediaGateway } from '../../media-gw/gateway/index.js';
import {
  bodyText, contentType, createRequest, createResponse, formatUri, from, getHeader, getHeaders, removeHeader, tagOf, to,
  type SipRequest, type SipResponse,
} from '../../core/sip/index.js';
import type { NgAnswerRequest, NgDeleteRequest, NgOfferRequest, NgQueryRequest } from '../../media-gw/ng/control.js';
import { FakeGateway, type RecordedCall } from '../unit/ng/fake-gateway.js';
import { CHROME_AUDIO_OFFER, plainRtpAnswer } from '../unit/ng/ims-alg-requests.js';
import type { FakeImsCore } from '../support/fake-ims-core.js';
import { invite, registered } from '../support/pcscf-rig.js';

async function withGateway(t: Test) {
  const gateway = new FakeGateway();
  const env = await registered(t, { media: new InProcessMediaControl(gateway) });
  const flowKey = env.pcscf.flows()[0]?.flow ?? '';
  return { ...env, gateway, flowKey };
}

/**
 * An INVITE reaching the fake IMS core within 500 ms. Used after the WIC already has its final
 * answer: anything the P-CSCF sends toward the IMS for that INVITE leaves before that answer.
 */
function inviteAtCore(core: FakeImsCore): Promise<SipRequest> {
  return core.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE', 500);
}

function commands(gateway: FakeGateway): string[] {
  return gateway.calls.map((c) => c.command);
}

interface RequestOf {
  offer: NgOfferRequest;
  answer: NgAnswerRequest;
  delete: NgDeleteRequest;
  query: NgQueryRequest;
}

function lastOf<C extends RecordedCall['command']>(gateway: FakeGateway, command: C): RequestOf[C] {
  const call = [...gateway.calls].reverse().find((c) => c.command === command);
  if (call === undefined) throw new Error(`no ${command} recorded`);
  return call.request as RequestOf[C];
}

const chromeInvite = (extra: [string, string][] = []): SipRequest => {
  const base = invite(undefined, extra);
  return { ...base, body: new TextEncoder().encode(CHROME_AUDIO_OFFER) };
};

t.test('R-ALG-4/R-ALG-5: an originating offer and its answers (183, then 200) go through the gateway with rtpengine tags', async (t) => {
  const { core, pcscf, wic, gateway, flowKey } = await withGateway(t);
  await pcscf.fromClient('conn-1', chromeInvite());
  const atCore = await core.request('INVITE');
  const offer = lastOf(gateway, 'offer');
  t.equal(offer.callId, `call-a~o~${flowKey}`, 'one ng call per WIC leg: Call-ID, direction and flow');
  t.equal(offer.fromTag, 'a1', 'ng from-tag: the offerer (the WIC)');
  t.equal(offer.transportProtocol, 'RTP/AVP', 'R-ALG-4: plain RTP toward IMS');
  t.equal(offer.ice, 'remove');
  t.equal(offer.dtls, 'off');
  t.equal(offer.sdp, CHROME_AUDIO_OFFER, 'the WIC offer is what the gateway rewrites');
  t.equal(bodyText(atCore), `offer-reply ${offer.callId} 1`, 'the IMS receives the gateway SDP');
  t.equal(contentType(atCore), 'application/sdp');

  core.answer(atCore, 183, { toTag: 'b9', body: plainRtpAnswer('127.0.0.1', 30000), contentType: 'application/sdp', headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`]] });
  const early = await wic.response(183, 'INVITE');
  const answer = lastOf(gateway, 'answer');
  t.same([answer.callId, answer.fromTag, answer.toTag], [offer.callId, 'a1', 'b9'], 'ng to-tag: the answerer');
  t.equal(answer.transportProtocol, 'UDP/TLS/RTP/SAVPF', 'R-ALG-5: WebRTC profile toward the WIC');
  t.equal(answer.ice, 'force');
  t.equal(answer.dtls, 'passive', 'the browser starts DTLS');
  t.equal(bodyText(early), `answer-reply ${offer.callId}`, 'early media SDP rewritten');

  core.answer(atCore, 200, { toTag: 'b9', body: plainRtpAnswer('127.0.0.1', 30002), contentType: 'application/sdp', headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]] });
  const ok = await wic.response(200, 'INVITE');
  t.equal(bodyText(ok), `answer-reply ${offer.callId}`);
  t.same(commands(gateway), ['offer', 'answer', 'answer'], 'the 200 with a different SDP is answered again');
  t.match(lastOf(gateway, 'answer').sdp, /30002/, 'with the final SDP');

  const bye = createRequest({ method: 'BYE', uri: `sip:bob@127.0.0.1:${core.port}`, headers: [
    ['Via', 'SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKbye-a'], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a1'],
    ['To', '<sip:bob@ims.test>;tag=b9'], ['Call-ID', 'call-a'], ['CSeq', '11 BYE'],
    ['Route', getHeaders(ok, 'Record-Route').join(', ')],
  ] });
  await pcscf.fromClient('conn-1', bye);
  core.answer(await core.request('BYE'), 200);
  await wic.response(200, 'BYE');
  t.same(lastOf(gateway, 'delete'), { callId: offer.callId }, 'BYE releases the media');
});

t.test('spec-digest §6.4: an offer with nothing relayable gets 488 with a Warning; nothing allocated, nothing sent to IMS', async (t) => {
  const { core, pcscf, wic, gateway } = await withGateway(t);
  const isacOnly = CHROME_AUDIO_OFFER.replace(/m=audio (\d+) (\S+) [\d ]+/, 'm=audio $1 $2 103');
  await pcscf.fromClient('conn-1', { ...invite(), body: new TextEncoder().encode(isacOnly.replace(/a=rtpmap:(?!103 )\d+ .*\r\n/g, '').replace(/a=rtpmap:103 .*/, 'a=rtpmap:103 ISAC/16000')) });
  const refused = await wic.response(488, 'INVITE');
  t.match(getHeader(refused, 'Warning') ?? '', /^30[45] 127\.0\.0\.1 ".+"$/, 'RFC 3261 §20.43 Warning with the reason');
  t.equal(gateway.calls.length, 0, 'the gateway was never asked');
  await t.rejects(inviteAtCore(core).then(() => undefined, () => Promise.reject(new Error('none'))), { message: 'none' }, 'no INVITE reached the IMS');
});

t.test('issue #4: the media gateway down → 503 to the caller, no INVITE toward IMS', async (t) => {
  const { core, pcscf, wic, gateway } = await withGateway(t);
  gateway.failure = new Error('connection refused');
  await pcscf.fromClient('conn-1', chromeInvite());
  const refused = await wic.response(503, 'INVITE');
  t.equal(getHeader(refused, 'Retry-After'), '5');
  t.equal(commands(gateway)[0], 'offer');
  await t.rejects(inviteAtCore(core).then(() => undefined, () => Promise.reject(new Error('none'))), { message: 'none' }, 'nothing half-set-up on Mw');
});

t.test('issue #4: a failed INVITE (486) releases the media it had allocated', async (t) => {
  const { core, pcscf, wic, gateway } = await withGateway(t);
  await pcscf.fromClient('conn-1', chromeInvite());
  const atCore = await core.request('INVITE');
  core.answer(atCore, 486, { toTag: 'busy' });
  await wic.response(486, 'INVITE');
  t.same(commands(gateway), ['offer', 'delete']);
  t.equal(lastOf(gateway, 'delete').callId, lastOf(gateway, 'offer').callId);
});

function terminatingInvite(corePort: number, path: string): SipRequest {
  return createRequest({ method: 'INVITE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${corePort};branch=z9hG4bKterm-m1`], ['Max-Forwards', '68'], ['Route', path],
    ['Record-Route', `<sip:127.0.0.1:${corePort};lr>`], ['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>'],
    ['Call-ID', 'term-m1'], ['CSeq', '1 INVITE'], ['Contact', `<sip:carol@127.0.0.1:${corePort}>`], ['Content-Type', 'application/sdp'],
  ], body: plainRtpAnswer('127.0.0.1', 31000) });
}

t.test('R-ALG-6: a terminating offer, the WIC answer, an IMS re-INVITE (hold) and the IMS BYE', async (t) => {
  const { core, pcscf, wic, gateway, flowKey, registerAtCore } = await withGateway(t);
  core.send(terminatingInvite(core.port, getHeader(registerAtCore, 'Path') ?? ''), { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  const atWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE');
  const offer = lastOf(gateway, 'offer');
  t.equal(offer.callId, `term-m1~t~${flowKey}`);
  t.equal(offer.fromTag, 'c1', 'the IMS party offered');
  t.equal(offer.transportProtocol, 'UDP/TLS/RTP/SAVPF', 'R-ALG-6: the WIC gets WebRTC');
  t.equal(bodyText(atWic), `offer-reply ${offer.callId} 1`);

  const wicAnswer = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=setup:active\r\n';
  await pcscf.fromClient('conn-1', createResponse(atWic, 200, 'OK', { toTag: 'w1', body: wicAnswer, contentType: 'application/sdp', headers: [['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws>']] }));
  const ok = await core.response(200, 'INVITE');
  const answer = lastOf(gateway, 'answer');
  t.same([answer.fromTag, answer.toTag, answer.transportProtocol, answer.sdp], ['c1', 'w1', 'RTP/AVP', wicAnswer]);
  t.equal(bodyText(ok), `answer-reply ${offer.callId}`);
  core.send(createRequest({ method: 'ACK', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKack-m1`], ['Max-Forwards', '70'], ['Route', getHeaders(ok, 'Record-Route').slice(0, 2).join(', ')],
    ['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>;tag=w1'], ['Call-ID', 'term-m1'], ['CSeq', '1 ACK'],
  ] }), { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  await wic.next((m) => m.kind === 'request' && m.method === 'ACK');

  // Hold from the IMS side: a re-INVITE with a=sendonly (the ng offer comes from the IMS party).
  const held = plainRtpAnswer('127.0.0.1', 31000).replace('a=sendrecv', 'a=sendonly');
  const routeToWic = getHeaders(ok, 'Record-Route').slice(0, 2).join(', ');
  core.send(createRequest({ method: 'INVITE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKreinv-m1`], ['Max-Forwards', '70'], ['Route', routeToWic],
    ['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>;tag=w1'], ['Call-ID', 'term-m1'], ['CSeq', '2 INVITE'],
    ['Contact', `<sip:carol@127.0.0.1:${core.port}>`], ['Content-Type', 'application/sdp'],
  ], body: held }), { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  const reinvite = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE' && tagOf(to(m)) === 'w1');
  const reoffer = lastOf(gateway, 'offer');
  t.same([reoffer.callId, reoffer.fromTag], [offer.callId, 'c1'], 'same ng call: the gateway keeps its ports');
  t.match(reoffer.sdp, /a=sendonly/, 'R-ALG-16: the direction reaches the gateway untouched');
  await pcscf.fromClient('conn-1', createResponse(reinvite, 200, 'OK', { body: wicAnswer.replace('a=setup', 'a=recvonly\r\na=setup'), contentType: 'application/sdp' }));
  await core.response(200, 'INVITE');
  t.same([lastOf(gateway, 'answer').fromTag, lastOf(gateway, 'answer').toTag], ['c1', 'w1']);

  core.send(createRequest({ method: 'BYE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKbye-m1`], ['Max-Forwards', '70'], ['Route', routeToWic],
    ['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>;tag=w1'], ['Call-ID', 'term-m1'], ['CSeq', '3 BYE'],
  ] }), { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  await wic.next((m) => m.kind === 'request' && m.method === 'BYE');
  t.same(lastOf(gateway, 'delete'), { callId: offer.callId }, 'the IMS BYE releases the media');
});

t.test('R-ALG-4, RFC 3261 §20.15: a WIC INVITE whose SDP has no Content-Type is refused 400 before the gateway; nothing on Mw', async (t) => {
  const { core, pcscf, wic, gateway } = await withGateway(t);
  await pcscf.fromClient('conn-1', removeHeader(chromeInvite(), 'Content-Type'));
  const refused = await wic.response(400, 'INVITE');
  t.match(getHeader(refused, 'Warning') ?? '', /^399 \S+ ".*Content-Type/, 'the Warning says why');
  t.same(commands(gateway), [], 'the gateway was asked nothing');
  t.equal(pcscf.mediaLegCount, 0, 'no media leg left behind');
  await t.rejects(inviteAtCore(core).then(() => undefined, () => Promise.reject(new Error('none'))), { message: 'none' }, 'the unlabelled SDP never reaches the IMS');
});

t.test('R-ALG-4, RFC 3261 §20.15: a WIC 200 whose SDP answer has no Content-Type never reaches Mw: 502 toward the IMS, ACK + BYE to the WIC, media released', async (t) => {
  const { core, pcscf, wic, gateway, registerAtCore } = await withGateway(t);
  core.send(terminatingInvite(core.port, getHeader(registerAtCore, 'Path') ?? ''), { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  const atWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE');
  const wicAnswer = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=setup:active\r\na=fingerprint:sha-256 AA:BB\r\n';
  // No contentType: the body goes out unlabelled, as core/ua's 200 did before it was fixed.
  await pcscf.fromClient('conn-1', createResponse(atWic, 200, 'OK', { toTag: 'w9', body: wicAnswer, headers: [['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws>']] }));
  const refused = await core.response(502, 'INVITE');
  t.equal(bodyText(refused), '', 'the WIC\'s SDP (its fingerprint) is not on Mw');
  t.match(getHeader(refused, 'Warning') ?? '', /^399 127\.0\.0\.1 "unprocessable 200/, 'RFC 3261 §21.5.3: Bad Gateway with a Warning');
  t.notOk(commands(gateway).includes('answer'), 'the gateway was not given a body nobody labelled');
  t.equal(tagOf(to(await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'ACK'))), 'w9', 'the WIC\'s 2xx is acknowledged');
  const bye = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'BYE');
  t.equal(tagOf(to(bye)), 'w9', 'and its session ended');
  await pcscf.fromClient('conn-1', createResponse(bye, 200));
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(pcscf.mediaLegCount, 0, 'the media leg is released');
  t.same(lastOf(gateway, 'delete'), { callId: lastOf(gateway, 'offer').callId }, 'its gateway call deleted');
});

t.test('R-ORIG-9: the W2 connection dying releases the media of its calls, with the BYE toward IMS', async (t) => {
  const { core, pcscf, wic, gateway } = await withGateway(t);
  await pcscf.fromClient('conn-1', chromeInvite());
  const atCore = await core.request('INVITE');
  core.answer(atCore, 200, { toTag: 'b9', body: plainRtpAnswer('127.0.0.1', 30000), contentType: 'application/sdp', headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]] });
  await wic.response(200, 'INVITE');
  // sessionClosed settles once its BYE is answered: read and answer the BYE meanwhile.
  const closing = pcscf.sessionClosed('conn-1', { cause: 'remote', code: 1006, reason: '' });
  const bye: SipResponse | SipRequest = await core.request('BYE');
  core.answer(bye as SipRequest, 200);
  await closing;
  t.equal(lastOf(gateway, 'delete').callId, lastOf(gateway, 'offer').callId);
});

t.test('issue #4: without a media gateway (media.mode off) SDP crosses untouched', async (t) => {
  const { core, pcscf } = await registered(t);
  await pcscf.fromClient('conn-1', chromeInvite());
  t.equal(bodyText(await core.request('INVITE')), CHROME_AUDIO_OFFER);
});

t.test('issue #4: a media gateway that does not answer over ng (nothing listening) → 503 after the ng retries, nothing on Mw', async (t) => {
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  t.teardown(() => silent.close());
  const control = new NgMediaControl({ address: '127.0.0.1', port: silent.address().port, timeoutMs: 100, retries: 1 });
  const { core, pcscf, wic } = await registered(t, { media: control });
  const started = Date.now();
  await pcscf.fromClient('conn-1', chromeInvite());
  const refused = await wic.response(503, 'INVITE');
  t.ok(Date.now() - started >= 200, 'after the first attempt and one retransmission');
  t.match(refused.reason, /media gateway/);
  await t.rejects(inviteAtCore(core).then(() => undefined, () => Promise.reject(new Error('none'))), { message: 'none' });
});

t.test('R-AGW-4: media that stops (idle timeout of our media-gw) releases the session both ways with a Reason', async (t) => {
  const gateway = createMediaGateway({
    webrtc: { host: '127.0.0.1', ports: { min: 38800, max: 38849 } }, ims: { host: '127.0.0.1', ports: { min: 38850, max: 38899 } },
    idleTimeoutSeconds: 0.4,
  });
  const { core, pcscf, wic } = await registered(t, { media: new InProcessMediaControl(gateway, { owned: true }) });
  gateway.onCallEvent = (event) => void pcscf.onMediaEvent(event.callId, event.kind);
  await pcscf.fromClient('conn-1', chromeInvite());
  const atCore = await core.request('INVITE');
  t.match(bodyText(atCore), /^m=audio \d+ RTP\/AVP/m, 'our gateway rewrote the offer');
  core.answer(atCore, 200, { toTag: 'b9', body: plainRtpAnswer('127.0.0.1', 30000), contentType: 'application/sdp',
    headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]] });
  await wic.response(200, 'INVITE');
  t.equal(gateway.size, 1, 'one call in the gateway');

  // No RTP from either side: after the idle timeout the P-CSCF ends the call.
  const byeAtCore = await core.request('BYE');
  t.match(getHeader(byeAtCore, 'Reason') ?? '', /^SIP;cause=503;text="media idle"$/, 'toward IMS, with the reason');
  t.equal(tagOf(to(byeAtCore)), 'b9');
  core.answer(byeAtCore, 200);
  const byeAtWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'BYE');
  t.equal(formatUri(byeAtWic.uri), 'sip:alice@df7jal23ls0d.invalid;transport=ws;ob', 'toward the WIC, at its Contact');
  t.equal(tagOf(to(byeAtWic)), 'a1', 'in the WIC\'s dialog (To = the WIC)');
  t.equal(tagOf(from(byeAtWic)), 'b9');
  t.equal(getHeader(byeAtWic, 'CSeq'), '1 BYE', 'the remote party\'s next CSeq');
  t.match(getHeader(byeAtWic, 'Reason') ?? '', /media idle/);
  await pcscf.fromClient('conn-1', createResponse(byeAtWic, 200, 'OK'));
  t.equal(gateway.size, 0, 'the media is gone');
  t.same(await pcscf.dialogs.all(), [], 'and so is the dialog');
});
