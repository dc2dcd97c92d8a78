// Issue #14 DTMF interworking in SDP: the answer toward the browser keeps its telephone-event
// (at the chosen codec's clock rate) when IMS did not accept one, marked `interworked` for the
// gateway; with IMS accepting telephone-event, or keepWicTelephoneEvent off, nothing is added.
import t from 'tap';
import { rewriteAnswerTowardIms, rewriteAnswerTowardWic, rewriteOfferTowardWic } from '../../../media-gw/sdp/index.js';
import { fixture, plan, sdp, sectionLines } from './sdp-plan.js';

const PCMU_ONLY = sdp('v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'm=video 0 RTP/AVP 96');
const PCMU_WITH_EVENTS = sdp('v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 6000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'm=video 0 RTP/AVP 96');
const OFFER = fixture('chromium120-audio-video-offer.sdp');

t.test('issue #14: IMS answered PCMU only; the browser keeps telephone-event/8000 (its PT 126), marked interworked', async (t) => {
  const { sdp: out, lines } = rewriteAnswerTowardWic(PCMU_ONLY, OFFER, plan(2, { keepWicTelephoneEvent: true }));
  const audio = sectionLines(out, 0);
  t.equal(audio[0], 'm=audio 40000 UDP/TLS/RTP/SAVPF 0 126', 'PCMU, then the browser\'s own telephone-event');
  t.ok(audio.includes('a=rtpmap:126 telephone-event/8000') && audio.includes('a=fmtp:126 0-15'));
  t.notOk(audio.some((line) => line.includes('telephone-event/48000')), 'not the 48 kHz one: PCMU runs at 8000 (RFC 4733 §2.1)');
  t.same(lines[0]?.codecs.find((codec) => codec.encoding === 'telephone-event'),
    { encoding: 'telephone-event', clockRate: 8000, fmtp: '0-15', wicPayloadType: 126, imsPayloadType: 126, interworked: true });
});

t.test('issue #14: with IMS accepting telephone-event it is relayed (PT 126 → 101), not interworked', async (t) => {
  const { lines } = rewriteAnswerTowardWic(PCMU_WITH_EVENTS, OFFER, plan(2, { keepWicTelephoneEvent: true }));
  const events = lines[0]?.codecs.filter((codec) => codec.encoding === 'telephone-event') ?? [];
  t.same(events.map((codec) => [codec.wicPayloadType, codec.imsPayloadType, codec.interworked]), [[126, 101, undefined]]);
});

t.test('issue #14, media.dtmf rfc4733: without keepWicTelephoneEvent the answer carries only what IMS accepted', async (t) => {
  const { sdp: out } = rewriteAnswerTowardWic(PCMU_ONLY, OFFER, plan(2));
  t.equal(sectionLines(out, 0)[0], 'm=audio 40000 UDP/TLS/RTP/SAVPF 0');
});

/** An IMS offer with PCMU only (sipp's UAC shape), and Chromium's answer to our offer that added telephone-event 101. */
const IMS_PCMU_OFFER = sdp('v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000');
const CHROME_ANSWER_WITH_EVENTS = sdp(
  'v=0', 'o=- 2890844526 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 0 101', 'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:Wq3e', 'a=ice-pwd:R1fQ9xBqTg0M6Bq9W6b1sT3u',
  'a=fingerprint:sha-256 0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0',
  'a=setup:active', 'a=mid:0', 'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000',
);

t.test('issue #14, termination: the offer toward the browser gains telephone-event/8000 (PT 101) when IMS offered none; the answer toward IMS does not carry it', async (t) => {
  const offer = rewriteOfferTowardWic(IMS_PCMU_OFFER, plan(1, { keepWicTelephoneEvent: true }));
  const audio = sectionLines(offer.sdp, 0);
  t.equal(audio[0], 'm=audio 40000 UDP/TLS/RTP/SAVPF 0 101');
  t.ok(audio.includes('a=rtpmap:101 telephone-event/8000'));
  t.same(offer.lines[0]?.codecs.map((codec) => [codec.encoding, codec.interworked]), [['PCMU', undefined], ['telephone-event', true]]);
  t.equal(sectionLines(rewriteOfferTowardWic(IMS_PCMU_OFFER, plan(1)).sdp, 0)[0], 'm=audio 40000 UDP/TLS/RTP/SAVPF 0', 'media.dtmf rfc4733: nothing added');

  const answer = rewriteAnswerTowardIms(CHROME_ANSWER_WITH_EVENTS, IMS_PCMU_OFFER, plan(1, { keepWicTelephoneEvent: true }));
  t.match(answer.sdp, /^m=audio 30000 RTP\/AVP 0\r?$/m, 'IMS is answered PCMU only');
  t.notMatch(answer.sdp, /telephone-event/);
  t.same(answer.lines[0]?.codecs.find((codec) => codec.encoding === 'telephone-event'),
    { encoding: 'telephone-event', clockRate: 8000, fmtp: '0-15', wicPayloadType: 101, imsPayloadType: 101, interworked: true },
    'the gateway learns the browser\'s telephone-event to consume');
});
