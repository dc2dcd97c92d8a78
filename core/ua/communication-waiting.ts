/**
 * CW (TS 24.615) as the virtual UE sees it, and R-MMTEL-3 attachments:
 * - the AS marks a waiting call with a multipart/mixed INVITE body holding the SDP and an
 *   `application/vnd.3gpp.cw+xml` part (TS 24.615 §4.5.5.2, A.1 Table A.1-1), and/or with
 *   `Alert-Info: <urn:alert:service:call-waiting>` (RFC 7462 §4.2.2);
 * - toward the caller, a 180 with that Alert-Info says the callee was busy and hears a waiting
 *   tone (TS 24.615 §4.5.5.3.1);
 * - every body part that is not the SDP is kept as an opaque typed attachment for the client.
 */
import { getHeaders, mediaTypeOf, nonSdpParts, type SipMessage } from '../sip/index.js';
import type { UaAttachment } from './api.js';

/** TS 24.615 §4.4: the MIME type of the 3GPP CW indication. */
export const CW_CONTENT_TYPE = 'application/vnd.3gpp.cw+xml';
/** RFC 7462 §4.2.2: the Alert-Info URN of a waiting call. */
export const CALL_WAITING_ALERT_URN = 'urn:alert:service:call-waiting';

const CALL_WAITING_ALERT = /<\s*urn:alert:service:call-waiting\s*>/i;

/** True when an Alert-Info value names the call-waiting alert (RFC 7462). */
export function alertsCallWaiting(message: SipMessage): boolean {
  return getHeaders(message, 'Alert-Info').some((value) => CALL_WAITING_ALERT.test(value));
}

/** The body parts beside the SDP, as the client receives them (R-MMTEL-3). */
export function attachmentsOf(message: SipMessage): UaAttachment[] {
  return nonSdpParts(message).map((part) => ({ contentType: part.contentType, body: Buffer.from(part.body).toString('utf8') }));
}

/** TS 24.615: a terminating INVITE the AS marked as a waiting call (CW body part or Alert-Info). */
export function isWaitingCall(invite: SipMessage, attachments: readonly UaAttachment[]): boolean {
  return alertsCallWaiting(invite)
    || attachments.some((a) => mediaTypeOf(a.contentType) === CW_CONTENT_TYPE);
}
