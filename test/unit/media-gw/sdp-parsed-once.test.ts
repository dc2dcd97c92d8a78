// structure-next §2 "SDP parsed once per offer": an offer crossing the IMS-ALG into our in-process
// gateway is parsed once — the ALG's policy check parses it, the gateway rewrites from that parse
// and rewrites every answer against it — and every answer once. Over ng the text crosses a socket,
// so the gateway parses it once more on its side. Parses are counted at the one sdpTransform.parse
// call of media-gw/sdp (sdp-reading.ts parseSdp), observed by wrapping sdp-transform's export.
import t from 'tap';
import { pino } from 'pino';
import sdpTransform from 'sdp-transform';
import { ImsAlg, type MediaLeg } from '../../../core/pcscf/alg/ims-alg.js';
import { InProcessMediaControl, NgMediaControl, type MediaControl } from '../../../core/pcscf/alg/media-control.js';
import { createRequest, createResponse, type SipRequest } from '../../../core/sip/index.js';
import { createMediaGateway } from '../../../media-gw/gateway/index.js';
import { NgServer } from '../../../media-gw/ng/index.js';
import { CHROME_AUDIO_OFFER, plainRtpAnswer } from '../ng/ims-alg-requests.js';

const gateway = createMediaGateway({
  webrtc: { host: '127.0.0.1', ports: { min: 38100, max: 38139 } },
  ims: { host: '127.0.0.1', ports: { min: 38140, max: 38179 } },
});
const server = await NgServer.listen({ control: gateway });
t.teardown(async () => {
  await server.close();
  await gateway.closeAll();
});

/** sdp-transform's module object, as media-gw/sdp/sdp-reading.ts calls it (`sdpTransform.parse`). */
const transform = sdpTransform as { parse: typeof sdpTransform.parse };

/** The texts sdp-transform parsed while `run` ran. */
async function parsesDuring(run: () => Promise<void>): Promise<string[]> {
  const original = transform.parse;
  const parsed: string[] = [];
  transform.parse = (text) => {
    parsed.push(text);
    return original(text);
  };
  try {
    await run();
  } finally {
    transform.parse = original;
  }
  return parsed;
}

const timesParsed = (parsed: readonly string[], sdp: string): number => parsed.filter((text) => text === sdp).length;

function algOver(control: MediaControl): ImsAlg {
  return new ImsAlg({ control, log: pino({ level: 'silent' }), warnAgent: '127.0.0.1' });
}

function invite(callId: string, fromTag: string, sdp: string): SipRequest {
  return createRequest({
    method: 'INVITE', uri: 'sip:bob@ims.test', body: sdp, headers: [
      ['Via', 'SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKparse'], ['Max-Forwards', '70'],
      ['From', `<sip:alice@ims.test>;tag=${fromTag}`], ['To', '<sip:bob@ims.test>'], ['Call-ID', callId],
      ['CSeq', '1 INVITE'], ['Content-Type', 'application/sdp'],
    ],
  });
}

/** An IMS offer as a TS 24.229 UE or MGW sends it (PCMU + telephone-event). */
const IMS_OFFER = [
  'v=0', 'o=ims 99 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 30010 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15',
  'a=ptime:20', 'a=sendrecv', '',
].join('\r\n');

/** What a browser answers to the gateway's offer (setup:active, rtcp-mux, its own ICE and fingerprint). */
const WIC_ANSWER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 0 101', 'c=IN IP4 0.0.0.0', 'a=mid:0',
  'a=ice-ufrag:brws', 'a=ice-pwd:browser-password-0123456789',
  `a=fingerprint:sha-256 ${'AB:'.repeat(31)}AB`, 'a=setup:active', 'a=rtcp-mux', 'a=sendrecv',
  'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=ssrc:1234 cname:x', '',
].join('\r\n');

t.test('structure-next §2: a WIC offer is parsed once through the IMS-ALG and the in-process gateway, its 183 and 200 answers once each', async (t) => {
  const alg = algOver(new InProcessMediaControl(gateway));
  const leg: MediaLeg = { callId: 'parse-orig', flowKey: 'node/1', direction: 'originating' };
  const request = invite('parse-orig', 'a1', CHROME_AUDIO_OFFER);
  const early = plainRtpAnswer('127.0.0.1', 30000);
  const final = plainRtpAnswer('127.0.0.1', 30002);
  const parsed = await parsesDuring(async () => {
    alg.open(leg);
    await alg.request(request, 'wic', leg);
    await alg.response(request, createResponse(request, 183, undefined, { toTag: 'b9', body: early, contentType: 'application/sdp' }), 'ims', leg);
    await alg.response(request, createResponse(request, 200, undefined, { toTag: 'b9', body: final, contentType: 'application/sdp' }), 'ims', leg);
  });
  t.equal(timesParsed(parsed, CHROME_AUDIO_OFFER), 1, 'the offer: once (the ALG), not again in the gateway nor at its answers');
  t.equal(timesParsed(parsed, early), 1, 'the 183 answer: once');
  t.equal(timesParsed(parsed, final), 1, 'the 200 answer: once');
  t.equal(parsed.length, 3, 'nothing else parsed');
  await alg.release(leg, 'test over');
});

t.test('structure-next §2: an IMS offer is parsed once through the IMS-ALG and the in-process gateway, the WIC answer once', async (t) => {
  const alg = algOver(new InProcessMediaControl(gateway));
  const leg: MediaLeg = { callId: 'parse-term', flowKey: 'node/2', direction: 'terminating' };
  const request = invite('parse-term', 'i1', IMS_OFFER);
  const parsed = await parsesDuring(async () => {
    alg.open(leg);
    await alg.request(request, 'ims', leg);
    await alg.response(request, createResponse(request, 200, undefined, { toTag: 'w1', body: WIC_ANSWER, contentType: 'application/sdp' }), 'wic', leg);
  });
  t.equal(timesParsed(parsed, IMS_OFFER), 1, 'the offer: once');
  t.equal(timesParsed(parsed, WIC_ANSWER), 1, 'the answer: once');
  t.equal(parsed.length, 2, 'nothing else parsed');
  await alg.release(leg, 'test over');
});

t.test('structure-next §2: over ng the offer text crosses a socket, so the gateway parses it once on its side too (twice in all)', async (t) => {
  const control = new NgMediaControl({ address: '127.0.0.1', port: server.address().port, timeoutMs: 2_000, retries: 0 });
  const alg = algOver(control);
  t.teardown(() => control.close());
  const leg: MediaLeg = { callId: 'parse-ng', flowKey: 'node/3', direction: 'originating' };
  const request = invite('parse-ng', 'a2', CHROME_AUDIO_OFFER);
  const answer = plainRtpAnswer('127.0.0.1', 30004);
  const parsed = await parsesDuring(async () => {
    alg.open(leg);
    await alg.request(request, 'wic', leg);
    await alg.response(request, createResponse(request, 200, undefined, { toTag: 'b2', body: answer, contentType: 'application/sdp' }), 'ims', leg);
  });
  t.equal(timesParsed(parsed, CHROME_AUDIO_OFFER), 2, 'the offer: once in the ALG, once in the gateway (kept there for its answers)');
  t.equal(timesParsed(parsed, answer), 1, 'the answer: once, in the gateway');
  await alg.release(leg, 'test over');
});
