import {
  callId, contacts, cseq, createRequest, formatNameAddr, formatUri, getHeader, getHeaders, nameAddrList, type ContactBinding, type SipRequest, type SipResponse,
} from '../sip/index.js';
import type { OwnUris } from './own-uris.js';

export interface EndingRequests {
  readonly ack: SipRequest;
  readonly bye: SipRequest;
}

/**
 * Ending a session whose 2xx the P-CSCF will not relay (RFC 3261 §16.7, issue 11 #9): the 2xx is
 * acknowledged (§13.2.2.4: every 2xx gets its ACK) and the session ended with BYE (§15), both in
 * the dialog the 2xx created: the INVITE's From and Call-ID, the 2xx's To (with its tag), its
 * Contact as Request-URI. `withRoutes`: the 2xx's Record-Route reversed, our own entries dropped,
 * when it parses, else the INVITE's own Route (the caller sends both where the INVITE went); none
 * toward a WIC (its flow is the next hop). The caller adds Via.
 */
export function endUnrelayedAnswer(invite: SipRequest, answer: SipResponse, uris: OwnUris, withRoutes: boolean, reason: string): EndingRequests {
  const contact = contacts(answer).find((c): c is ContactBinding => !('star' in c && c.star));
  const uri = contact ? formatUri(contact.uri) : formatUri(invite.uri);
  const seq = cseq(invite).seq;
  const base: [string, string][] = [
    ['Max-Forwards', '70'], ['From', getHeader(invite, 'From') ?? ''], ['To', getHeader(answer, 'To') ?? ''], ['Call-ID', callId(invite)],
  ];
  const routes: [string, string][] = withRoutes ? routeSetOf(invite, answer, uris).map((r) => ['Route', r]) : [];
  return {
    ack: createRequest({ method: 'ACK', uri, headers: [...base, ['CSeq', `${seq} ACK`], ...routes] }),
    bye: createRequest({ method: 'BYE', uri, headers: [...base, ['CSeq', `${seq + 1} BYE`], ['Reason', reason], ...routes] }),
  };
}

/**
 * RFC 3261 §12.1.2: the UAC's route set is the Record-Route reversed; ours (first) are dropped.
 * Nothing usable there (unparsable, or a re-INVITE's 2xx without one): the INVITE's own Route
 * (the Service-Route or the dialog's route set the P-CSCF wrote).
 */
function routeSetOf(invite: SipRequest, answer: SipResponse, uris: OwnUris): string[] {
  let recorded;
  try {
    recorded = nameAddrList(answer, 'Record-Route').reverse();
  } catch {
    return getHeaders(invite, 'Route');
  }
  while (recorded.length > 0 && uris.isOwn(recorded[0]!.uri)) recorded.shift();
  return recorded.length > 0 ? recorded.map((na) => formatNameAddr(na)) : getHeaders(invite, 'Route');
}
