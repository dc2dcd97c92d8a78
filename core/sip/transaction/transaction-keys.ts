import { callId, cseq, formatUri, formatVia, from, tagOf, topVia } from '../index.js';
import type { SipRequest, SipResponse } from '../model/message.js';
import type { Via } from '../model/views.js';
import { BRANCH_MAGIC_COOKIE } from '../ids.js';

/** RFC 3261 §8.1.1.7: a branch with the magic cookie is unique per transaction. */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(BRANCH_MAGIC_COOKIE) && branch.length > BRANCH_MAGIC_COOKIE.length;
}

/**
 * RFC 3261 §17.1.3: a response matches a client transaction when its top Via branch equals the
 * request's and its CSeq method equals the request's method (the method matters because a
 * CANCEL carries the same branch as its INVITE, §9.1).
 */
export function clientKey(branch: string, method: string): string {
  return `${branch}\u0000${method}`;
}

export function clientKeyOfResponse(response: SipResponse): string | undefined {
  const branch = topVia(response).branch;
  if (branch === undefined) return undefined;
  return clientKey(branch, cseq(response).method);
}

/** The Via sent-by, compared as host (case-insensitive) plus port (RFC 3261 §17.2.3). */
function sentBy(via: Via): string {
  return `${via.host.toLowerCase()}:${via.port ?? ''}`;
}

/** RFC 3261 §17.2.3: an ACK belongs to the INVITE transaction; everything else to its own method. */
function transactionMethod(method: string): string {
  return method === 'ACK' ? 'INVITE' : method;
}

export interface ServerKey {
  readonly key: string;
  /** True when the request had no RFC 3261 branch and the RFC 2543 rules were used. */
  readonly legacy: boolean;
}

/**
 * RFC 3261 §17.2.3 server matching. With a magic-cookie branch: branch + sent-by + method
 * (ACK → INVITE). Without one (an RFC 2543 peer), the older rule: Request-URI, From tag,
 * Call-ID, CSeq number, top Via and method; the To tag is left out of the key because an ACK
 * carries the tag of our response, which the layer checks separately.
 *
 * `asMethod` looks up the transaction of another method with the same identity: the INVITE a
 * CANCEL targets (§9.2).
 */
export function serverKey(request: SipRequest, asMethod?: string): ServerKey {
  const via = topVia(request);
  const method = asMethod ?? transactionMethod(request.method);
  if (isRfc3261Branch(via.branch)) {
    return { key: `${via.branch}\u0000${sentBy(via)}\u0000${method}`, legacy: false };
  }
  const parts = [
    'rfc2543',
    formatUri(request.uri),
    tagOf(from(request)) ?? '',
    callId(request),
    String(cseq(request).seq),
    formatVia(via),
    method,
  ];
  return { key: parts.join('\u0000'), legacy: true };
}
