import type { SipHeader, SipRequest } from '../model/message.js';
import { splitList } from '../grammar/list.js';
import { ownCopy } from '../own-copy.js';

const IDENTITY_HEADERS = new Set(['Via', 'CSeq']);
const NO_BODY = new Uint8Array(0);

/**
 * What a client transaction still needs of its request once it only absorbs retransmitted
 * responses (RFC 3261 §17.1.2.2, Completed for Timer K): the request line and the headers that
 * identify the transaction (§17.1.3 matches on the top Via branch and the CSeq method). The rest
 * of the request, often kilobytes that share memory with the message it was proxied from, is let
 * go instead of living T4 longer on every hop.
 */
export function completedRequest(request: SipRequest): SipRequest {
  const headers: SipHeader[] = [];
  let viaKept = false;
  for (const h of request.headers) {
    if (!IDENTITY_HEADERS.has(h.name)) continue;
    if (h.name === 'Via') {
      // Only the top Via is this hop's (§17.1.3); keep its first value.
      if (viaKept) continue;
      viaKept = true;
    }
    headers.push({ name: h.name, value: ownCopy(h.name === 'Via' ? (splitList(h.value)[0] ?? h.value) : h.value) });
  }
  return { kind: 'request', method: request.method, uri: request.uri, headers, body: NO_BODY };
}
