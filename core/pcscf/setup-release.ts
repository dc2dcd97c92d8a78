/**
 * R-AGW-4 for calls still in setup (issue #15 "media gateways as a pool ... a dead one taken out
 * of the pool and its calls released cleanly"): the media of a call attempt is gone before its
 * INVITE got a final response (its gateway died while the call rang). Each side learns it the
 * way SIP says for a call that cannot proceed:
 *  - the side that sent the INVITE gets the final response, 503 with a reason phrase naming the
 *    cause: toward the WIC with Retry-After (a new call goes to a live gateway), toward the IMS
 *    without it (RFC 3261 §21.5.4: a 503 with Retry-After would make the IMS treat this P-CSCF
 *    as overloaded, for every user, because of one lost gateway);
 *  - the side it was forwarded to gets a CANCEL for it (RFC 3261 §9.1, §16.10): the ringing
 *    phone stops; its 487 ends the branch and is not relayed (the INVITE already has its final).
 * Established calls are released with BYE both ways as before (release.ts).
 */
import { createResponse, generateTag } from '../sip/index.js';
import { mediaCallId, type MediaLeg } from './alg/media-legs.js';
import type { PcscfRelay } from './relay.js';

/** Ends the attempts in setup of `leg` whose media failed with `kind`; returns how many. */
export function endCallsInSetup(relay: PcscfRelay, leg: MediaLeg, kind: string): number {
  const attempts = relay.media.setup.take(mediaCallId(leg));
  const reason = kind === 'gateway-down' ? 'Service Unavailable - media gateway lost' : `Service Unavailable - media ${kind}`;
  // The INVITE came from the WIC for an originating leg, from the IMS for a terminating one.
  const headers: [string, string][] = leg.direction === 'originating' ? [['Retry-After', '5']] : [];
  for (const tx of attempts) {
    relay.ctx.log.warn({ callId: leg.callId, direction: leg.direction, event: kind }, 'media failed during call setup: 503 to the caller, CANCEL to the callee (R-AGW-4)');
    // Cancelled first, while the transaction is in Proceeding: an INVITE whose procedure has not
    // forwarded it yet is then never forwarded (Forwarder.cancel remembers it).
    relay.forwarder.cancel(tx);
    tx.respond(createResponse(tx.request, 503, reason, { toTag: generateTag(), headers }));
  }
  return attempts.length;
}
