import type { SipMessage } from '../sip/index.js';
import type { TokenRefusalCode } from '../webauth/index.js';
import type { CallRefusalReason } from './call-limits.js';
import type { RequestRateRefusalReason } from './request-rates.js';

/** Monitoring only (never drives behaviour): every SIP message on each side. */
export interface PcscfEvents {
  mw: [event: { direction: 'in' | 'out'; message: SipMessage; peer: string }];
  w2: [event: { direction: 'in' | 'out'; connectionId: string; message: SipMessage }];
  /** Every SIP response on either side, status only (metrics). */
  response: [side: 'mw' | 'w2', direction: 'in' | 'out', status: number];
  /** A routing guard refused or dropped a message (issue 11 #2, #9; metrics). */
  guard: [guard: RelayGuard];
  /** The media-leg audit released a leg nothing owned (metrics: epcscf_media_legs_orphaned_total). */
  mediaLegOrphaned: [event: { callId: string; ngCallId: string }];
  /** A request refused by a w2.limits cap (issue 11): calls, open transactions, registrations per IP. */
  refused: [reason: RefusalReason, connectionId: string];
  /** A web token was validated (R-REG-4): accepted, or the refusal's code (metrics; the token is never in it). */
  webToken: [outcome: TokenRefusalCode | 'accepted'];
  /** epcscf de-registered trusted-node bindings on Mw itself (R-REG-25): the flow ended or its token expired. */
  trustedNodeDeregistration: [cause: 'flow-ended' | 'token-expired', aor: string];
}

/** Which w2.limits cap refused a request (issue 11). */
export type RefusalReason = CallRefusalReason | RequestRateRefusalReason | 'pending_transactions' | 'registrations_per_ip' | 'mw_overload';

/**
 * The routing guards (issue 11): `unknown-dialog` a WIC's mid-dialog request for no dialog of its
 * flow (481, R-ORIG-10); `stray-ack` a WIC's ACK for no dialog of its flow (dropped); `stray-response`
 * a WIC's response no transaction or dialog claims (dropped); `unprocessable-response` a response
 * the P-CSCF could not process (502 to the client, RFC 3261 §16.7).
 */
export type RelayGuard = 'unknown-dialog' | 'stray-ack' | 'stray-response' | 'unprocessable-response';
