// Regressions from the SDP rewrite fuzz (test/robustness/fuzz-sdp-rewrite.test.ts, seed 11011):
// sdp-transform turns a value that looks numeric into a number, so `a=fingerprint:sha-256 7` and
// `a=setup:1` reached string methods as numbers and threw TypeError. A fingerprint or setup value
// is text (RFC 8122 §5, RFC 4145 §4): the rules read it as such and refuse what they cannot use.
import t from 'tap';
import { rewriteAnswerTowardIms, rewriteOfferTowardIms, SdpError } from '../../../media-gw/sdp/index.js';
import { fixture, plan, thrown } from './sdp-plan.js';

const withLine = (sdp: string, pattern: RegExp, replacement: string): string => sdp.replace(pattern, replacement);

t.test('R-ALG-5: a browser answer whose fingerprint value is a bare number is refused with SdpError, not a TypeError', async (t) => {
  const imsOffer = fixture('ims-pjsip-volte-multi-amr-offer.sdp');
  const answer = withLine(fixture('chrome-audio-offer.sdp'), /^a=fingerprint:.*$/gm, 'a=fingerprint:sha-256 7');
  const outcome = thrown(() => rewriteAnswerTowardIms(answer, imsOffer, plan(1)));
  t.ok(outcome === undefined || outcome instanceof SdpError, `answered or refused with SdpError (got ${String(outcome)})`);
});

t.test('R-ALG-1: a browser offer with a numeric a=setup value is read as text (unusable setup) and never throws a TypeError', async (t) => {
  const offer = withLine(fixture('chrome-audio-offer.sdp'), /^a=setup:.*$/gm, 'a=setup:1');
  const outcome = thrown(() => rewriteOfferTowardIms(offer, plan(1)));
  t.ok(outcome === undefined || outcome instanceof SdpError, `rewritten or refused with SdpError (got ${String(outcome)})`);
});
