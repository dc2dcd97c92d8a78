import t from 'tap';
import { rewriteOfferTowardIms, rewriteOfferTowardWic } from '../../../media-gw/sdp/index.js';
import { fixture, plan, sdp, sdpLines, sectionLines } from './sdp-plan.js';

const IMS_OFFER = sdp('v=0', 'o=ims 7 7 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 40000 RTP/AVP 8 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv');

t.test('R-ALG-16: hold and resume re-offers from the WIC keep the same IMS port and carry the direction', async (t) => {
  const first = rewriteOfferTowardIms(fixture('chrome-audio-offer.sdp'), plan(1));
  const hold = rewriteOfferTowardIms(fixture('chrome-audio-offer.sdp').replace('a=sendrecv', 'a=sendonly'), plan(1, { sessionVersion: 2 }));
  const inactive = rewriteOfferTowardIms(fixture('chrome-audio-offer.sdp').replace('a=sendrecv', 'a=inactive'), plan(1, { sessionVersion: 3 }));
  const resume = rewriteOfferTowardIms(fixture('chrome-audio-offer.sdp'), plan(1, { sessionVersion: 4 }));
  t.equal(sectionLines(hold.sdp, 0)[0], sectionLines(first.sdp, 0)[0], 'same m= line (port, codecs) on hold');
  t.ok(sdpLines(hold.sdp).includes('a=sendonly'));
  t.ok(sdpLines(inactive.sdp).includes('a=inactive'));
  t.ok(sdpLines(resume.sdp).includes('a=sendrecv'));
  // RFC 3264 §8: a changed SDP carries a higher o= version (the ALG bumps it in the plan).
  t.same([first, hold, inactive, resume].map((result) => sdpLines(result.sdp)[1]), [
    'o=- 4242 1 IN IP4 192.0.2.1', 'o=- 4242 2 IN IP4 192.0.2.1', 'o=- 4242 3 IN IP4 192.0.2.1', 'o=- 4242 4 IN IP4 192.0.2.1',
  ]);
});

t.test('R-ICE-4: an ICE restart in a WIC re-offer shows up as new credentials in the summary, ports unchanged', async (t) => {
  const restarted = fixture('chrome-audio-offer.sdp').replace('a=ice-ufrag:5+Ix', 'a=ice-ufrag:N3w1').replace('a=ice-pwd:uK8IlylxzDMUhrkVzdmj0M+v', 'a=ice-pwd:a1b2c3d4e5f6g7h8i9j0k1l2');
  const { sdp: out, lines } = rewriteOfferTowardIms(restarted, plan(1));
  t.match(lines[0]?.wic, { iceUfrag: 'N3w1', icePwd: 'a1b2c3d4e5f6g7h8i9j0k1l2' });
  t.equal(sectionLines(out, 0)[0], 'm=audio 30000 RTP/AVP 111 9 0 8 13 110 126');
});

t.test('R-ALG-16: IMS-side hold (sendonly, inactive) and resume reach the WIC unchanged', async (t) => {
  for (const direction of ['sendonly', 'inactive', 'recvonly', 'sendrecv'] as const) {
    const { sdp: out, lines } = rewriteOfferTowardWic(IMS_OFFER.replace('a=sendrecv', `a=${direction}`), plan(1));
    t.ok(sdpLines(out).includes(`a=${direction}`), direction);
    t.equal(lines[0]?.direction, direction);
    t.equal(lines[0]?.ims?.onHold, false);
  }
});

t.test('RFC 3264 §8.4: an old-style IMS hold (c=0.0.0.0) reaches the WIC as sendonly (recvonly as inactive); the gateway must not send there', async (t) => {
  const held = rewriteOfferTowardWic(IMS_OFFER.replace('c=IN IP4 192.0.2.10', 'c=IN IP4 0.0.0.0'), plan(1));
  t.ok(sdpLines(held.sdp).includes('a=sendonly'));
  t.notOk(sdpLines(held.sdp).includes('c=IN IP4 0.0.0.0'), 'the WIC sees the gateway address, not 0.0.0.0');
  t.match(held.lines[0], { direction: 'sendonly', ims: { address: '0.0.0.0', onHold: true } });
  const heldRecvonly = rewriteOfferTowardWic(IMS_OFFER.replace('c=IN IP4 192.0.2.10', 'c=IN IP4 0.0.0.0').replace('a=sendrecv', 'a=recvonly'), plan(1));
  t.ok(sdpLines(heldRecvonly.sdp).includes('a=inactive'));
});

t.test('IMS-side address change in a re-offer: same WIC-side SDP, the summary has the new IMS address', async (t) => {
  const before = rewriteOfferTowardWic(IMS_OFFER, plan(1));
  const moved = rewriteOfferTowardWic(IMS_OFFER.replace('c=IN IP4 192.0.2.10', 'c=IN IP4 192.0.2.99').replace('m=audio 40000', 'm=audio 41000'), plan(1));
  t.same(sdpLines(moved.sdp), sdpLines(before.sdp));
  t.match(moved.lines[0]?.ims, { address: '192.0.2.99', port: 41000, rtcpPort: 41001 });
});

t.test('IMS codec change in a re-offer: the WIC offer follows (PCMA dropped, PCMU kept)', async (t) => {
  const { sdp: out, lines } = rewriteOfferTowardWic(IMS_OFFER.replace('RTP/AVP 8 0 101', 'RTP/AVP 0 101'), plan(1));
  t.equal(sectionLines(out, 0)[0], 'm=audio 40000 UDP/TLS/RTP/SAVPF 0 101');
  t.same(lines[0]?.codecs.map((codec) => codec.encoding), ['PCMU', 'telephone-event']);
});
