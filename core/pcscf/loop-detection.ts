import { createHash } from 'node:crypto';
import { BRANCH_MAGIC_COOKIE, callId, cseq, formatUri, from, getHeaders, generateBranch, tagOf, to, vias, type SipRequest } from '../sip/index.js';

/**
 * RFC 3261 §16.6 step 8 / §16.3 step 4: our branch starts with a hash of the fields that make a
 * request "the same" (Request-URI, From/To tags, Call-ID, CSeq number, Proxy-Require and the
 * topmost Via's sent-by as received), then a random part that keeps it unique. A request that
 * comes back with one of our Vias carrying the hash it has now has looped (482). A spiral — a
 * call or an in-dialog BYE between two WICs of this P-CSCF, which returns from the S-CSCF —
 * arrives with another topmost Via, hashes differently and passes.
 */
export function loopHash(request: SipRequest): string {
  const h = createHash('sha1');
  h.update(formatUri(request.uri)).update('\n').update(tagOf(from(request)) ?? '').update('\n').update(tagOf(to(request)) ?? '')
    .update('\n').update(callId(request)).update('\n').update(String(cseq(request).seq)).update('\n')
    .update(getHeaders(request, 'Proxy-Require').join(',')).update('\n').update(topSentBy(request));
  return h.digest('base64url').slice(0, 12);
}

function topSentBy(request: SipRequest): string {
  const via = vias(request)[0];
  return via ? `${via.transport} ${via.host}:${via.port ?? ''}` : '';
}

export function loopBranch(request: SipRequest): string {
  return `${BRANCH_MAGIC_COOKIE}${loopHash(request)}.${generateBranch().slice(BRANCH_MAGIC_COOKIE.length)}`;
}

/** True when one of `ownVias` (our sent-by) carries this request's current loop hash. */
export function hasLooped(request: SipRequest, ownBranches: readonly string[]): boolean {
  if (ownBranches.length === 0) return false;
  const prefix = `${BRANCH_MAGIC_COOKIE}${loopHash(request)}.`;
  return ownBranches.some((b) => b.startsWith(prefix));
}
