import { EpcError } from '../../errors.js';
import { cseq, createRequest, getHeader, getHeaders } from '../index.js';
import type { SipRequest, SipResponse } from '../model/message.js';

type HeaderList = [string, string][];

/** The headers both an ACK for non-2xx and a CANCEL copy from the INVITE. */
function copiedFromInvite(invite: SipRequest, method: 'ACK' | 'CANCEL', to: string): HeaderList {
  const topVia = getHeaders(invite, 'Via')[0];
  const fromValue = getHeader(invite, 'From');
  const callIdValue = getHeader(invite, 'Call-ID');
  if (topVia === undefined || fromValue === undefined || callIdValue === undefined) {
    throw new EpcError('EPC_ERR_SIP_PARSE', `cannot build ${method}: the INVITE lacks Via, From or Call-ID (RFC 3261 §8.1.1)`);
  }
  const headers: HeaderList = [
    // §17.1.1.3 / §9.1: a single Via, equal to the top Via of the original request.
    ['Via', topVia],
    // §8.1.1.6: every request carries Max-Forwards; keep the INVITE's budget.
    ['Max-Forwards', getHeader(invite, 'Max-Forwards') ?? '70'],
    ['From', fromValue],
    ['To', to],
    ['Call-ID', callIdValue],
    // Same CSeq number, method ACK / CANCEL.
    ['CSeq', `${cseq(invite).seq} ${method}`],
  ];
  // §17.1.1.3 / §9.1: the Route header fields of the original request.
  for (const route of getHeaders(invite, 'Route')) headers.push(['Route', route]);
  return headers;
}

/**
 * RFC 3261 §17.1.1.3: the ACK a client INVITE transaction sends for a 3xx-6xx. Same
 * Request-URI, Call-ID, From and CSeq number as the INVITE, To from the response (with its tag),
 * the INVITE's top Via only, its Route set, no body.
 */
export function createAckForNonSuccess(invite: SipRequest, response: SipResponse): SipRequest {
  const to = getHeader(response, 'To') ?? getHeader(invite, 'To');
  if (to === undefined) throw new EpcError('EPC_ERR_SIP_PARSE', 'cannot build ACK: no To header (RFC 3261 §8.1.1.2)');
  return createRequest({ method: 'ACK', uri: invite.uri, headers: copiedFromInvite(invite, 'ACK', to) });
}

/**
 * RFC 3261 §9.1: a CANCEL for a pending INVITE. Request-URI, Call-ID, To, From and CSeq number
 * as in the INVITE (method CANCEL), the INVITE's top Via (so the CANCEL shares its branch and
 * reaches the same server transaction's element), its Route set, and no Require or
 * Proxy-Require. The UAC sends it in its own client transaction, to the INVITE's target, and
 * only after a provisional response arrived (§9.1).
 */
export function createCancel(invite: SipRequest): SipRequest {
  if (invite.method !== 'INVITE') throw new EpcError('EPC_ERR_INVALID_STATE', `CANCEL applies to INVITE only, not ${invite.method} (RFC 3261 §9.1)`);
  const to = getHeader(invite, 'To');
  if (to === undefined) throw new EpcError('EPC_ERR_SIP_PARSE', 'cannot build CANCEL: the INVITE has no To header (RFC 3261 §8.1.1.2)');
  return createRequest({ method: 'CANCEL', uri: invite.uri, headers: copiedFromInvite(invite, 'CANCEL', to) });
}
