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
  const key = [formatUri(request.uri), tagOf(from(request)) ?? '', tagOf(to(request)) ?? '', callId(request),
    String(cseq(request).seq), getHeaders(request, 'Proxy-Require').join(','), topSentBy(request)].join('\n');
  // Not a security boundary (a loop check among our own hops): two 32-bit FNV-1a hashes are enough.
  return fnv1a(key, 0x811c9dc5).toString(36) + fnv1a(key, 0x01000193).toString(36);
}

function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
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
