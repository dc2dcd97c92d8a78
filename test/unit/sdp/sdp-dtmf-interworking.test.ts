// Issue #14 DTMF interworking in SDP: the answer toward the browser keeps its telephone-event
// (at the chosen codec's clock rate) when IMS did not accept one, marked `interworked` for the
// gateway; with IMS accepting telephone-event, or keepWicTelephoneEvent off, nothing is added.
import t from 'tap';
import { rewriteAnswerTowardWic } from '../../../core/sdp/index.js';
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
