import t from 'tap';
import { EpcError } from '../../../core/errors.js';
import { parseWicOffer, rewriteOfferTowardIms, SdpError } from '../../../media-gw/sdp/index.js';
import { fixture, linePlan, plan, sdpLines, sectionLines, thrown, WEBRTC_ONLY_ATTRIBUTES } from './sdp-plan.js';

const BROWSER_OFFERS = [
  'chrome-audio-offer.sdp',
  'chrome-video.sdp',
  'chromium120-audio-video-offer.sdp',
  'firefox121-audio-video-offer.sdp',
  'firefox-audio.sdp',
  'jssip-chrome-offer.sdp',
  'safari-audio-video-data.sdp',
  'chrome-datachannel-video-offer.sdp',
  'dtls-session-level.sdp',
  'ice-session-level-credentials.sdp',
];

const OPUS_G711_AUDIO_HEADER = [
  'v=0',
  'o=- 4242 1 IN IP4 192.0.2.1',
  's=-',
  'c=IN IP4 192.0.2.1',
  't=0 0',
];

t.test('R-ALG-8/9/12/13: Chrome audio offer toward IMS, line by line', async (t) => {
  const { sdp } = rewriteOfferTowardIms(fixture('chrome-audio-offer.sdp'), plan(1));
  t.same(sdpLines(sdp), [
    ...OPUS_G711_AUDIO_HEADER,
    'm=audio 30000 RTP/AVP 111 9 0 8 13 110 126',
    'b=AS:80',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:13 CN/8000',
    'a=rtpmap:110 telephone-event/48000',
    'a=rtpmap:126 telephone-event/8000',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=ptime:20',
    'a=maxptime:120',
    'a=sendrecv',
  ]);
});

t.test('R-ALG-8/9: Chromium 120 audio+video offer toward IMS: BUNDLE un-bundled onto two IMS ports (R-ALG-10), VP8/H264 kept, rtx/red/ulpfec/VP9/AV1 removed', async (t) => {
  const { sdp } = rewriteOfferTowardIms(fixture('chromium120-audio-video-offer.sdp'), plan(2));
  t.same(sdpLines(sdp), [
    ...OPUS_G711_AUDIO_HEADER,
    'm=audio 30000 RTP/AVP 111 9 0 8 13 110 126',
    'b=AS:80',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:13 CN/8000',
    'a=rtpmap:110 telephone-event/48000',
    'a=rtpmap:126 telephone-event/8000',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=ptime:20',
    'a=maxptime:120',
    'a=sendrecv',
    'm=video 30002 RTP/AVP 96 102 104 106 108 127 39',
    'b=AS:2000',
    'a=rtpmap:96 VP8/90000',
    'a=rtpmap:102 H264/90000',
    'a=rtpmap:104 H264/90000',
    'a=rtpmap:106 H264/90000',
    'a=rtpmap:108 H264/90000',
    'a=rtpmap:127 H264/90000',
    'a=rtpmap:39 H264/90000',
    'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
    'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
    'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
    'a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f',
    'a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f',
    'a=sendrecv',
  ]);
});

t.test('R-ALG-8/9: Firefox 121 audio+video offer toward IMS, line by line (session-level fingerprint, G722/8000/1)', async (t) => {
  const { sdp, lines } = rewriteOfferTowardIms(fixture('firefox121-audio-video-offer.sdp'), plan(2));
  t.same(sdpLines(sdp), [
    ...OPUS_G711_AUDIO_HEADER,
    'm=audio 30000 RTP/AVP 109 9 0 8 101',
    'b=AS:80',
    'a=rtpmap:109 opus/48000/2',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1',
    'a=fmtp:101 0-15',
    'a=ptime:20',
    'a=maxptime:120',
    'a=sendrecv',
    'm=video 30002 RTP/AVP 120 126 97',
    'b=AS:2000',
    'a=rtpmap:120 VP8/90000',
    'a=rtpmap:126 H264/90000',
    'a=rtpmap:97 H264/90000',
    'a=fmtp:120 max-fs=12288;max-fr=60',
    'a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1',
    'a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1',
    'a=sendrecv',
  ]);
  // RFC 8122 §5 / RFC 8839 §5.4: session-level fingerprint and media-level ICE reach the summary.
  t.equal(lines[0]?.wic?.fingerprint?.value, '75:4F:CA:8F:4F:E4:CE:5E:67:42:D3:DA:0E:E1:87:2A:E5:E3:02:76:30:FC:AB:F0:B4:7E:24:71:18:38:9C:6E');
  t.equal(lines[1]?.wic?.iceUfrag, '6c0579ea');
  t.same(lines.map((line) => line.mid), ['0', '1']);
});

t.test('R-ALG-13: JsSIP (RTP/SAVPF + DTLS) offer toward IMS keeps the WIC maxptime; SDES crypto removed', async (t) => {
  const { sdp } = rewriteOfferTowardIms(fixture('jssip-chrome-offer.sdp'), plan(1));
  t.same(sdpLines(sdp), [
    ...OPUS_G711_AUDIO_HEADER,
    'm=audio 30000 RTP/AVP 111 0 8 13 126',
    'b=AS:80',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:13 CN/8000',
    'a=rtpmap:126 telephone-event/8000',
    'a=fmtp:111 minptime=10',
    'a=ptime:20',
    'a=maxptime:60',
    'a=sendrecv',
  ]);
});

t.test('R-ALG-17/R-DC-9: Safari audio+video+data offer: the data m-line stays third, with port 0', async (t) => {
  const { sdp, lines } = rewriteOfferTowardIms(fixture('safari-audio-video-data.sdp'), plan(2));
  t.same(sectionLines(sdp, 1), [
    'm=video 30002 RTP/AVP 96 98 100',
    'b=AS:2000',
    'a=rtpmap:96 H264/90000',
    'a=rtpmap:98 H264/90000',
    'a=rtpmap:100 VP8/90000',
    'a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f',
    'a=fmtp:98 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    'a=sendrecv',
  ]);
  t.same(sectionLines(sdp, 2), ['m=application 0 DTLS/SCTP 5000']);
  t.same(lines.map((line) => line.accepted), [true, true, false]);
  t.match(lines[2]?.rejectReason, /R-DC-9/);
});

t.test('R-ALG-17: a data channel first in the BUNDLE (modern Chrome) is rejected in place, video keeps index 1', async (t) => {
  const { sdp, lines } = rewriteOfferTowardIms(fixture('chrome-datachannel-video-offer.sdp'), { ...plan(2), lines: [undefined, linePlan(1)] });
  t.same(sectionLines(sdp, 0), ['m=application 0 UDP/DTLS/SCTP webrtc-datachannel']);
  t.equal(sectionLines(sdp, 1)[0], 'm=video 30002 RTP/AVP 96 102 127 125 108 124 39 123');
  t.same(lines.map((line) => line.kind), ['application', 'video']);
});

t.test('R-ALG-9: no WebRTC-only attribute reaches IMS, for every browser fixture', async (t) => {
  for (const name of BROWSER_OFFERS) {
    const offer = fixture(name);
    const { sdp } = rewriteOfferTowardIms(offer, plan(3));
    const out = sdpLines(sdp);
    for (const attribute of WEBRTC_ONLY_ATTRIBUTES) {
      t.notOk(out.some((line) => line.startsWith(attribute)), `${name}: no ${attribute}`);
    }
    // R-ALG-17: as many m-lines as the WIC offered, in order.
    const kinds = (text: string): string[] => sdpLines(text).filter((line) => line.startsWith('m=')).map((line) => line.slice(2).split(' ')[0] ?? '');
    t.same(kinds(sdp), kinds(offer), `${name}: m-line order kept`);
    for (const mline of out.filter((line) => line.startsWith('m=') && !line.split(' ')[1]?.startsWith('0'))) {
      t.match(mline, / RTP\/AVP /, `${name}: accepted m-line is RTP/AVP: ${mline}`);
    }
    t.equal(out.filter((line) => line.startsWith('c=')).length, 1, `${name}: one session-level c=`);
    t.ok(out.includes('c=IN IP4 192.0.2.1'), `${name}: c= is the gateway's IMS address`);
  }
});

t.test('R-ALG-16: direction attributes pass through unchanged (media and session level)', async (t) => {
  const chrome = fixture('chrome-audio-offer.sdp');
  for (const direction of ['sendonly', 'recvonly', 'inactive'] as const) {
    const { sdp, lines } = rewriteOfferTowardIms(chrome.replace('a=sendrecv', `a=${direction}`), plan(1));
    t.ok(sdpLines(sdp).includes(`a=${direction}`), `a=${direction} kept`);
    t.notOk(sdpLines(sdp).includes('a=sendrecv'));
    t.equal(lines[0]?.direction, direction);
  }
  // Firefox 58 writes a=sendrecv at session level too; a media-level sendonly overrides it.
  const firefox = fixture('firefox-audio.sdp').replace(/(a=mid:sdparta_0)/, '$1\r\na=sendonly').replace(/\r?\na=sendrecv(\r?\na=end-of)/, '$1');
  t.equal(parseWicOffer(firefox)[0]?.direction, 'sendonly');
  t.ok(sdpLines(rewriteOfferTowardIms(firefox, plan(1)).sdp).includes('a=sendonly'));
});

t.test('R-ALG-12: a b=AS the WIC gave is kept; the plan value or the default fills a missing one', async (t) => {
  const withAs = fixture('chrome-audio-offer.sdp').replace('c=IN IP4 192.168.99.58', 'c=IN IP4 192.168.99.58\r\nb=AS:50');
  t.ok(sdpLines(rewriteOfferTowardIms(withAs, plan(1)).sdp).includes('b=AS:50'));
  const planned = plan(1, { lines: [linePlan(0, { bandwidthKbps: 64 })] });
  t.ok(sdpLines(rewriteOfferTowardIms(fixture('chrome-audio-offer.sdp'), planned).sdp).includes('b=AS:64'));
});

t.test('RFC 3605: an IMS RTCP port other than port+1 is announced with a=rtcp; rtcp-mux offered toward IMS only when the plan asks', async (t) => {
  const offbeat = plan(1, { lines: [linePlan(0, { imsRtcpPort: 30555 })] });
  t.ok(sdpLines(rewriteOfferTowardIms(fixture('chrome-audio-offer.sdp'), offbeat).sdp).includes('a=rtcp:30555'));
  const adjacent = plan(1, { lines: [linePlan(0, { imsRtcpPort: 30001 })] });
  t.notOk(sdpLines(rewriteOfferTowardIms(fixture('chrome-audio-offer.sdp'), adjacent).sdp).some((line) => line.startsWith('a=rtcp')));
  const muxed = plan(1, { offerRtcpMuxToIms: true });
  t.ok(sdpLines(rewriteOfferTowardIms(fixture('chrome-audio-offer.sdp'), muxed).sdp).includes('a=rtcp-mux'));
});

t.test('parseWicOffer: the summary carries what the media-gw needs for the WIC leg', async (t) => {
  const [audio] = parseWicOffer(fixture('chrome-audio-offer.sdp'));
  t.equal(audio?.kind, 'audio');
  t.equal(audio?.mid, 'audio');
  t.equal(audio?.wic?.iceUfrag, '5+Ix');
  t.equal(audio?.wic?.icePwd, 'uK8IlylxzDMUhrkVzdmj0M+v');
  t.equal(audio?.wic?.setup, 'actpass');
  t.equal(audio?.wic?.rtcpMux, true);
  t.same(audio?.wic?.ssrcs, [1944796561]);
  t.equal(audio?.wic?.candidates.length, 4);
  t.same(audio?.wic?.candidates[3], {
    foundation: '1936595596', component: 1, transport: 'tcp', priority: 1518214911, address: '192.168.99.58', port: 9, type: 'host', tcpType: 'active',
  });
  t.same(audio?.codecs.map((codec) => `${codec.wicPayloadType} ${codec.encoding}/${codec.clockRate}`), [
    '111 opus/48000', '9 G722/8000', '0 PCMU/8000', '8 PCMA/8000', '13 CN/8000', '110 telephone-event/48000', '126 telephone-event/8000',
  ]);
  // R-ALG-1: actpass -> the gateway takes passive (DTLS server) unless told otherwise.
  t.equal(audio?.gatewayDtlsRole, 'server');
  t.equal(parseWicOffer(fixture('chrome-audio-offer.sdp'), { preferredSetup: 'active' })[0]?.gatewayDtlsRole, 'client');
});

t.test('R-ALG-1: a WIC that insists on a role gets the opposite one', async (t) => {
  const offer = fixture('chrome-audio-offer.sdp');
  t.equal(parseWicOffer(offer.replace('a=setup:actpass', 'a=setup:active'), { preferredSetup: 'active' })[0]?.gatewayDtlsRole, 'server');
  t.equal(parseWicOffer(offer.replace('a=setup:actpass', 'a=setup:passive'))[0]?.gatewayDtlsRole, 'client');
  t.throws(() => parseWicOffer(offer.replace('a=setup:actpass', 'a=setup:holdconn')), SdpError);
});

t.test('R-COD-2: 488 with a reason when nothing can be relayed', async (t) => {
  const noDtls = (): unknown => rewriteOfferTowardIms(fixture('freeswitch-audio-no-dtls.sdp'), plan(1));
  t.ok(thrown(noDtls) instanceof SdpError);
  t.match(thrown(noDtls), { name: 'SdpError', status: 488, warning: 305, code: 'EPC_ERR_SDP_NOT_ACCEPTABLE', reason: /no DTLS fingerprint/ });
  const isacOnly = fixture('chrome-audio-offer.sdp').replace(/m=audio (\d+) UDP\/TLS\/RTP\/SAVPF [\d ]+/, 'm=audio $1 UDP/TLS/RTP/SAVPF 103 104 126');
  t.match(thrown(() => rewriteOfferTowardIms(isacOnly, plan(1))), { status: 488, reason: /no codec the gateway can relay/ });
  const dataOnly = fixture('chrome-datachannel-video-offer.sdp').replace(/m=video[\s\S]*$/, '');
  t.match(thrown(() => rewriteOfferTowardIms(dataOnly, plan(1))), { status: 488, reason: /R-DC-9/ });
  const noMux = fixture('chrome-audio-offer.sdp').replace('a=rtcp-mux\r\n', '').replace('a=rtcp-mux\n', '');
  t.match(thrown(() => rewriteOfferTowardIms(noMux, plan(1))), { status: 488, reason: /rtcp-mux/ });
  t.match(thrown(() => rewriteOfferTowardIms('hello', plan(1))), { status: 400 });
  t.match(thrown(() => rewriteOfferTowardIms('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', plan(1))), { status: 488, warning: 304 });
});

t.test('R-SDP-6: a bundle-only m-line (port 0) cannot be unbundled and stays rejected in place', async (t) => {
  const offer = fixture('chromium120-audio-video-offer.sdp').replace('m=video 9 ', 'm=video 0 ').replace('a=mid:1', 'a=mid:1\r\na=bundle-only');
  const { sdp, lines } = rewriteOfferTowardIms(offer, plan(1));
  t.same(sectionLines(sdp, 1), ['m=video 0 RTP/AVP 96']);
  t.equal(lines[1]?.accepted, false);
});

t.test('a plan without an entry for an accepted m-line is a controller bug (EPC_ERR_INVALID_STATE)', async (t) => {
  let caught: unknown;
  try {
    rewriteOfferTowardIms(fixture('chromium120-audio-video-offer.sdp'), plan(1));
  } catch (error) {
    caught = error;
  }
  t.ok(caught instanceof EpcError, 'an EpcError');
  t.equal((caught as EpcError).code, 'EPC_ERR_INVALID_STATE');
});
