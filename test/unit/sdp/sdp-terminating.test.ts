import t from 'tap';
import { rewriteAnswerTowardIms, rewriteOfferTowardWic, SdpError } from '../../../media-gw/sdp/index.js';
import { answerQosPreconditions } from '../../../media-gw/sdp/preconditions.js';
import { fixture, GW_FINGERPRINT, plan, sdp, sdpLines, sectionLines, thrown } from './sdp-plan.js';

/** What Chromium answers to the gateway's G722 offer (shape of a real createAnswer: setup:active, own ICE, rtcp-mux). */
const CHROME_ANSWER_G722 = sdp(
  'v=0', 'o=- 2890844526 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 9 110', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Wq3e', 'a=ice-pwd:R1fQ9xBqTg0M6Bq9W6b1sT3u', 'a=ice-options:trickle',
  'a=fingerprint:sha-256 0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0',
  'a=setup:active', 'a=mid:0', 'a=sendrecv', 'a=msid:- 5d1c4f07-3e49-4f5e-9a38-1c2b86f0d3a7', 'a=rtcp-mux',
  'a=rtpmap:9 G722/8000', 'a=rtpmap:110 telephone-event/8000', 'a=ssrc:3735928559 cname:abcdEFGHijkl',
);

t.test('R-ALG-6/R-PRE-1: the pjsip VoLTE multi-AMR offer toward a WIC, line by line: AMR removed, G722 kept, preconditions stripped', async (t) => {
  const { sdp: out, lines } = rewriteOfferTowardWic(fixture('ims-pjsip-volte-multi-amr-offer.sdp'), plan(1));
  t.same(sdpLines(out), [
    'v=0',
    'o=- 4242 1 IN IP4 198.51.100.1',
    's=-',
    't=0 0',
    'a=ice-lite',
    'a=msid-semantic: WMS epcscf',
    'm=audio 40000 UDP/TLS/RTP/SAVPF 9 110',
    'c=IN IP4 198.51.100.1',
    'b=AS:41',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:110 telephone-event/8000',
    'a=fmtp:110 0-15',
    'a=setup:actpass',
    'a=mid:0',
    'a=msid:epcscf audio-0',
    'a=ptime:20',
    'a=maxptime:240',
    'a=sendrecv',
    'a=ice-ufrag:gw0Uf',
    'a=ice-pwd:gwIcePassword0abcdefghij',
    `a=fingerprint:sha-256 ${GW_FINGERPRINT}`,
    'a=candidate:gw0 1 udp 2130706431 198.51.100.1 40000 typ host',
    'a=end-of-candidates',
    'a=rtcp-mux',
  ]);
  t.match(lines[0], { accepted: true, mid: '0', direction: 'sendrecv', ims: { address: '192.0.2.10', port: 40000, rtcpPort: 40001, rtcpMux: false, onHold: false } });
  t.same(lines[0]?.codecs.map((codec) => `${codec.imsPayloadType} ${codec.encoding}/${codec.clockRate}`), ['9 G722/8000', '110 telephone-event/8000']);
});

t.test('R-PRE-1: the WIC answer goes back to IMS as RTP/AVP with IMS payload numbers, and the preconditions answered for the WIC', async (t) => {
  const { sdp: out, lines } = rewriteAnswerTowardIms(CHROME_ANSWER_G722, fixture('ims-pjsip-volte-multi-amr-offer.sdp'), plan(1));
  t.same(sdpLines(out), [
    'v=0',
    'o=- 4242 1 IN IP4 192.0.2.1',
    's=-',
    'c=IN IP4 192.0.2.1',
    't=0 0',
    'm=audio 30000 RTP/AVP 9 110',
    'b=AS:80',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:110 telephone-event/8000',
    'a=ptime:20',
    'a=maxptime:120',
    'a=sendrecv',
    'a=curr:qos local sendrecv',
    'a=curr:qos remote none',
    'a=des:qos optional local sendrecv',
    'a=des:qos mandatory remote sendrecv',
  ]);
  t.match(lines[0], {
    accepted: true,
    gatewayDtlsRole: 'server',
    wic: { iceUfrag: 'Wq3e', icePwd: 'R1fQ9xBqTg0M6Bq9W6b1sT3u', setup: 'active', rtcpMux: true, ssrcs: [3735928559] },
    ims: { address: '192.0.2.10', port: 40000, rtcpPort: 40001 },
  });
  t.same(lines[0]?.codecs.map((codec) => [codec.encoding, codec.wicPayloadType, codec.imsPayloadType]), [['G722', 9, 9], ['telephone-event', 110, 110]]);
});

t.test('R-ALG-6: a WIC answering passive makes the gateway the DTLS client; actpass in an answer is refused', async (t) => {
  const passive = rewriteAnswerTowardIms(CHROME_ANSWER_G722.replace('a=setup:active', 'a=setup:passive'), fixture('ims-pjsip-volte-multi-amr-offer.sdp'), plan(1));
  t.equal(passive.lines[0]?.gatewayDtlsRole, 'client');
  const actpass = thrown(() => rewriteAnswerTowardIms(CHROME_ANSWER_G722.replace('a=setup:active', 'a=setup:actpass'), fixture('ims-pjsip-volte-multi-amr-offer.sdp'), plan(1)));
  t.ok(actpass instanceof SdpError);
  t.match(actpass, { status: 488, reason: /no media line/ });
});

t.test('R-COD-2: an AMR-only IMS offer cannot be relayed to a WIC: 488', async (t) => {
  const amrOnly = sdp('v=0', 'o=ims 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 40000 RTP/AVP 97 96', 'a=rtpmap:97 AMR-WB/16000', 'a=rtpmap:96 telephone-event/16000');
  t.match(thrown(() => rewriteOfferTowardWic(amrOnly, plan(1))), { name: 'SdpError', status: 488, reason: /no codec the gateway can relay/ });
});

t.test('R-ALG-4: an SDES (RTP/SAVP + crypto) IMS m-line is rejected in place; plain RTP next to it is relayed', async (t) => {
  const offer = sdp(
    'v=0', 'o=ims 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
    'm=audio 40000 RTP/SAVP 0', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR',
    'm=audio 40002 RTP/AVP 8', 'm=text 40004 RTP/AVP 98', 'a=rtpmap:98 t140/1000',
  );
  const { sdp: out, lines } = rewriteOfferTowardWic(offer, plan(3));
  t.same(sectionLines(out, 0), ['m=audio 0 UDP/TLS/RTP/SAVPF 0', 'c=IN IP4 0.0.0.0', 'a=mid:0']);
  t.equal(sectionLines(out, 1)[0], 'm=audio 40002 UDP/TLS/RTP/SAVPF 8');
  t.same(sectionLines(out, 2), ['m=text 0 RTP/AVP 98', 'c=IN IP4 0.0.0.0', 'a=mid:2']);
  t.same(lines.map((line) => line.accepted), [false, true, false]);
});

t.test('RFC 5761: rtcp-mux offered by IMS is accepted in the answer toward IMS; real-peers finding 1: a=rtcp:<port> alone is read', async (t) => {
  const offer = fixture('rtcp-without-port.sdp');
  const offered = rewriteOfferTowardWic(offer, plan(1));
  t.equal(offered.lines[0]?.ims?.rtcpPort, 9);
  const muxedOffer = offer.replace('a=rtcp:9', 'a=rtcp-mux');
  const wicAnswer = CHROME_ANSWER_G722.replace('m=audio 9 UDP/TLS/RTP/SAVPF 9 110', 'm=audio 9 UDP/TLS/RTP/SAVPF 0').replace('a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000').replace('a=rtpmap:110 telephone-event/8000\r\n', '');
  const answered = rewriteAnswerTowardIms(wicAnswer, muxedOffer, plan(1));
  t.ok(sdpLines(answered.sdp).includes('a=rtcp-mux'));
  t.notOk(sdpLines(answered.sdp).some((line) => line.startsWith('a=curr')), 'no preconditions when IMS offered none');
});

t.test('RFC 3312 §5: precondition answers for segmented and end-to-end offers', async (t) => {
  t.same(answerQosPreconditions(['curr:qos local none', 'curr:qos remote none', 'des:qos mandatory local sendrecv', 'des:qos none remote sendrecv']), [
    'curr:qos local sendrecv', 'curr:qos remote none', 'des:qos none local sendrecv', 'des:qos mandatory remote sendrecv',
  ]);
  t.same(answerQosPreconditions(['curr:qos e2e none', 'des:qos mandatory e2e sendrecv']), ['curr:qos e2e none', 'des:qos mandatory e2e sendrecv']);
  t.same(answerQosPreconditions(['curr:qos local send', 'des:qos mandatory local send']), [
    'curr:qos local sendrecv', 'curr:qos remote recv', 'des:qos optional local sendrecv', 'des:qos mandatory remote recv',
  ]);
  t.same(answerQosPreconditions(['sendrecv', 'rtcp:4001']), []);
});
