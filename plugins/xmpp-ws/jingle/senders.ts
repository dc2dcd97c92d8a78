/**
 * XEP-0166 §7.3: a content's `senders` names session roles (initiator/responder), SDP
 * directions are seen from the party that wrote the SDP. R-JMAP-2: the conversion needs the
 * session role of that party.
 */
import type { MediaDirection } from '../../../core/sdp/index.js';

export type JingleRole = 'initiator' | 'responder';
export type JingleSenders = 'both' | 'initiator' | 'responder' | 'none';

export function isJingleSenders(value: string | undefined): value is JingleSenders {
  return value === 'both' || value === 'initiator' || value === 'responder' || value === 'none';
}

/** R-JMAP-2: `role` is the session role of the party whose SDP this is. */
export function sendersToDirection(senders: JingleSenders, role: JingleRole): MediaDirection {
  if (senders === 'both') return 'sendrecv';
  if (senders === 'none') return 'inactive';
  return senders === role ? 'sendonly' : 'recvonly';
}

/** The inverse of sendersToDirection. */
export function directionToSenders(direction: MediaDirection, role: JingleRole): JingleSenders {
  const other: JingleRole = role === 'initiator' ? 'responder' : 'initiator';
  switch (direction) {
    case 'sendrecv': return 'both';
    case 'inactive': return 'none';
    case 'sendonly': return role;
    case 'recvonly': return other;
  }
}
