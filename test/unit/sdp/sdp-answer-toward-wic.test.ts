import t from 'tap';
import { rewriteAnswerTowardWic, SdpError } from '../../../media-gw/sdp/index.js';
import { fixture, GW_FINGERPRINT, linePlan, plan, sdp, sdpLines, sectionLines, thrown } from './sdp-plan.js';

/** What sipp's UAS answers (static PCMU, no rtpmap), with the address-less a=rtcp form rtpengine writes. */
const SIPP_PCMU_ANSWER = sdp('v=0', 'o=user1 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtcp:6001');

const SIPP_PCMU_ANSWER_AUDIO_VIDEO = sdp(
  'v=0', 'o=user1 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'm=video 0 RTP/AVP 96',
);

t.test('R-ALG-5/R-ICE-1/R-SDP-4/5: sipp PCMU answer back to Chromium 120, line by line; video rejected by IMS stays with port 0 and its mid', async (t) => {
  const { sdp: out, lines } = rewriteAnswerTowardWic(SIPP_PCMU_ANSWER_AUDIO_VIDEO, fixture('chromium120-audio-video-offer.sdp'), plan(2));
  t.same(sdpLines(out), [
    'v=0',
    'o=- 4242 1 IN IP4 198.51.100.1',
    's=-',
    't=0 0',
    'a=ice-lite',
    'a=msid-semantic: WMS epcscf',
    'm=audio 40000 UDP/TLS/RTP/SAVPF 0',
    'c=IN IP4 198.51.100.1',
    'a=rtpmap:0 PCMU/8000',
    'a=setup:passive',
    'a=mid:0',
    'a=msid:epcscf audio-0',
    'a=sendrecv',
    'a=ice-ufrag:gw0Uf',
    'a=ice-pwd:gwIcePassword0abcdefghij',
    `a=fingerprint:sha-256 ${GW_FINGERPRINT}`,
    'a=candidate:gw0 1 udp 2130706431 198.51.100.1 40000 typ host',
    'a=end-of-candidates',
    'a=rtcp-mux',
    'm=video 0 UDP/TLS/RTP/SAVPF 96',
    'c=IN IP4 0.0.0.0',
    'a=mid:1',
  ]);
  t.same(lines.map((line) => line.accepted), [true, false]);
  t.match(lines[1]?.rejectReason, /rejected by the IMS side/);
  t.same(lines[0]?.codecs, [{ encoding: 'PCMU', clockRate: 8000, wicPayloadType: 0, imsPayloadType: 0 }]);
  t.same(lines[0]?.ims, { proto: 'RTP/AVP', address: '127.0.0.1', port: 6000, rtcpPort: 6001, rtcpAddress: '127.0.0.1', rtcpMux: false, onHold: false });
  t.equal(lines[0]?.gatewayDtlsRole, 'server');
  t.equal(lines[0]?.wic?.iceUfrag, 'nWnq');
});

t.test('real-peers media finding 1: the address-less a=rtcp:<port> of an IMS answer is accepted; without a=rtcp RTCP is on port+1', async (t) => {
  const { lines } = rewriteAnswerTowardWic(SIPP_PCMU_ANSWER, fixture('chrome-audio-offer.sdp'), plan(1));
  t.equal(lines[0]?.ims?.rtcpPort, 6001);
  const withAddress = SIPP_PCMU_ANSWER.replace('a=rtcp:6001', 'a=rtcp:7001 IN IP4 127.0.0.2');
  t.match(rewriteAnswerTowardWic(withAddress, fixture('chrome-audio-offer.sdp'), plan(1)).lines[0]?.ims, { rtcpPort: 7001, rtcpAddress: '127.0.0.2' });
  const bare = SIPP_PCMU_ANSWER.replace('a=rtcp:6001\r\n', '');
  t.equal(rewriteAnswerTowardWic(bare, fixture('chrome-audio-offer.sdp'), plan(1)).lines[0]?.ims?.rtcpPort, 6001);
  const muxed = SIPP_PCMU_ANSWER.replace('a=rtcp:6001', 'a=rtcp-mux');
  t.match(rewriteAnswerTowardWic(muxed, fixture('chrome-audio-offer.sdp'), plan(1)).lines[0]?.ims, { rtcpPort: 6000, rtcpMux: true });
});

t.test('RFC 3264 §6.1: a PCMA + telephone-event answer under other payload numbers is given back to the WIC under its own; the summary maps both', async (t) => {
  const answer = sdp(
    'v=0', 'o=ims 1 1 IN IP4 192.0.2.50', 's=-', 'c=IN IP4 192.0.2.50', 't=0 0',
    'm=audio 5004 RTP/AVP 8 101', 'b=AS:64', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=ptime:20', 'a=sendrecv',
  );
  const { sdp: out, lines } = rewriteAnswerTowardWic(answer, fixture('chrome-audio-offer.sdp'), plan(1));
  t.same(sectionLines(out, 0).slice(0, 7), [
    'm=audio 40000 UDP/TLS/RTP/SAVPF 8 126',
    'c=IN IP4 198.51.100.1',
    'b=AS:64',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:126 telephone-event/8000',
    'a=fmtp:126 0-15',
    'a=setup:passive',
  ]);
  t.ok(sectionLines(out, 0).includes('a=ptime:20'));
  t.ok(sectionLines(out, 0).includes('a=mid:audio'), 'the WIC mid, not an index');
  t.same(lines[0]?.codecs.map((codec) => [codec.encoding, codec.wicPayloadType, codec.imsPayloadType]), [['PCMA', 8, 8], ['telephone-event', 126, 101]]);
});

t.test('R-COD-2: an AMR-only IMS answer leaves nothing to relay: 488', async (t) => {
  const amr = sdp('v=0', 'o=ims 1 1 IN IP4 192.0.2.50', 's=-', 'c=IN IP4 192.0.2.50', 't=0 0', 'm=audio 5004 RTP/AVP 97', 'a=rtpmap:97 AMR/8000', 'a=fmtp:97 mode-set=0,2,5,7');
  const error = thrown(() => rewriteAnswerTowardWic(amr, fixture('chrome-audio-offer.sdp'), plan(1)));
  t.ok(error instanceof SdpError);
  t.match(error, { status: 488, reason: /no media line/ });
});

t.test('R-COD-2: AMR answered on audio but VP8 on video: audio goes back with port 0, video is relayed', async (t) => {
  const answer = sdp(
    'v=0', 'o=ims 1 1 IN IP4 192.0.2.50', 's=-', 'c=IN IP4 192.0.2.50', 't=0 0',
    'm=audio 5004 RTP/AVP 97', 'a=rtpmap:97 AMR/8000', 'm=video 5006 RTP/AVP 100', 'a=rtpmap:100 VP8/90000',
  );
  const { sdp: out, lines } = rewriteAnswerTowardWic(answer, fixture('firefox121-audio-video-offer.sdp'), plan(2));
  t.same(sectionLines(out, 0), ['m=audio 0 UDP/TLS/RTP/SAVPF 109', 'c=IN IP4 0.0.0.0', 'a=mid:0']);
  t.equal(sectionLines(out, 1)[0], 'm=video 40002 UDP/TLS/RTP/SAVPF 120');
  t.ok(sectionLines(out, 1).includes('a=mid:1'));
  t.match(lines[0]?.rejectReason, /accepts no codec/);
  t.same(lines[1]?.codecs.map((codec) => [codec.wicPayloadType, codec.imsPayloadType]), [[120, 100]]);
});

t.test('Video: an H264 answer matches the offered format with the same packetization-mode and profile', async (t) => {
  const answer = sdp(
    'v=0', 'o=ims 1 1 IN IP4 192.0.2.50', 's=-', 'c=IN IP4 192.0.2.50', 't=0 0',
    'm=audio 5004 RTP/AVP 0', 'm=video 5006 RTP/AVP 99', 'a=rtpmap:99 H264/90000', 'a=fmtp:99 packetization-mode=1;profile-level-id=42e01e',
  );
  const { sdp: out, lines } = rewriteAnswerTowardWic(answer, fixture('chromium120-audio-video-offer.sdp'), plan(2));
  t.same(sectionLines(out, 1).slice(0, 5), [
    'm=video 40002 UDP/TLS/RTP/SAVPF 106',
    'c=IN IP4 198.51.100.1',
    'a=rtpmap:106 H264/90000',
    'a=fmtp:106 packetization-mode=1;profile-level-id=42e01e',
    'a=setup:passive',
  ]);
  t.same(lines[1]?.codecs.map((codec) => [codec.wicPayloadType, codec.imsPayloadType]), [[106, 99]]);
});

t.test('R-ALG-5: never actpass in an answer; the plan preference and the WIC role decide', async (t) => {
  const chrome = fixture('chrome-audio-offer.sdp');
  const active = plan(1, { lines: [linePlan(0, { wicSetup: 'active' })] });
  const out = rewriteAnswerTowardWic(SIPP_PCMU_ANSWER, chrome, active);
  t.ok(sdpLines(out.sdp).includes('a=setup:active'));
  t.equal(out.lines[0]?.gatewayDtlsRole, 'client');
  const passiveWic = rewriteAnswerTowardWic(SIPP_PCMU_ANSWER, chrome.replace('a=setup:actpass', 'a=setup:passive'), plan(1));
  t.ok(sdpLines(passiveWic.sdp).includes('a=setup:active'));
  for (const name of ['chrome-audio-offer.sdp', 'firefox-audio.sdp', 'jssip-chrome-offer.sdp']) {
    const lines = sdpLines(rewriteAnswerTowardWic(SIPP_PCMU_ANSWER, fixture(name), plan(1)).sdp);
    t.notOk(lines.includes('a=setup:actpass'), `${name}: no actpass`);
    t.notOk(lines.some((line) => line.startsWith('a=group:')), `${name}: no BUNDLE (R-ALG-10)`);
    t.ok(lines.includes('a=rtcp-mux'), `${name}: rtcp-mux (R-SDP-5)`);
  }
  // The proto is exactly the one the WIC offered (R-ALG-5): JsSIP's old RTP/SAVPF.
  t.equal(sdpLines(rewriteAnswerTowardWic(SIPP_PCMU_ANSWER, fixture('jssip-chrome-offer.sdp'), plan(1)).sdp).find((line) => line.startsWith('m=')), 'm=audio 40000 RTP/SAVPF 0');
});

t.test('R-ALG-16 / RFC 3264 §8.4: answer directions pass through; an old-style c=0.0.0.0 answer reaches the WIC as sendonly', async (t) => {
  const recvonly = SIPP_PCMU_ANSWER.replace('a=rtcp:6001', 'a=recvonly');
  const held = rewriteAnswerTowardWic(recvonly, fixture('chrome-audio-offer.sdp').replace('a=sendrecv', 'a=sendonly'), plan(1));
  t.ok(sdpLines(held.sdp).includes('a=recvonly'));
  const oldHold = SIPP_PCMU_ANSWER.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0');
  const out = rewriteAnswerTowardWic(oldHold, fixture('chrome-audio-offer.sdp'), plan(1));
  t.ok(sdpLines(out.sdp).includes('a=sendonly'));
  t.equal(out.lines[0]?.ims?.onHold, true);
  t.equal(out.lines[0]?.direction, 'sendonly');
});

t.test('RFC 3264 §6: an answer with a different number of m-lines is refused', async (t) => {
  t.match(thrown(() => rewriteAnswerTowardWic(SIPP_PCMU_ANSWER, fixture('chromium120-audio-video-offer.sdp'), plan(2))), { status: 488, reason: /1 m-lines, the offer had 2/ });
});

t.test('R-DC-9: the Safari data m-line answered with port 0 by IMS stays rejected toward the WIC with its mid', async (t) => {
  const answer = SIPP_PCMU_ANSWER_AUDIO_VIDEO + 'm=application 0 DTLS/SCTP 5000\r\n';
  const { sdp: out } = rewriteAnswerTowardWic(answer, fixture('safari-audio-video-data.sdp'), plan(2));
  t.same(sectionLines(out, 2), ['m=application 0 DTLS/SCTP 5000', 'c=IN IP4 0.0.0.0', 'a=mid:data']);
  t.same(sectionLines(out, 1), ['m=video 0 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:video']);
});

t.test('the gateway SSRC is announced toward the WIC when the plan has one', async (t) => {
  const withSsrc = plan(1, { lines: [linePlan(0, { wicSsrc: 123456 })] });
  t.ok(sdpLines(rewriteAnswerTowardWic(SIPP_PCMU_ANSWER, fixture('chrome-audio-offer.sdp'), withSsrc).sdp).includes('a=ssrc:123456 cname:epcscf'));
  t.notOk(sdpLines(rewriteAnswerTowardWic(SIPP_PCMU_ANSWER, fixture('chrome-audio-offer.sdp'), plan(1)).sdp).some((line) => line.startsWith('a=ssrc')));
});
