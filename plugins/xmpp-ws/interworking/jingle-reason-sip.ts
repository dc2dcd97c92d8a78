/**
 * Jingle <reason/> (XEP-0166 §7.4, F-JNG-7) ⇄ SIP final status, spec-digest §10.6 [D]: no
 * standard maps them (the STOX media draft expired), so this is the project's table. Asterisk's
 * chan_motif Q.850 table (busy=USER_BUSY, decline=CALL_REJECTED, timeout=RECOVERY_ON_TIMER,
 * gone=NORMAL_CLEARING) was the cross-check.
 */
export const JINGLE_REASONS = [
  'alternative-session', 'busy', 'cancel', 'connectivity-error', 'decline', 'expired', 'failed-application',
  'failed-transport', 'general-error', 'gone', 'incompatible-parameters', 'media-error', 'security-error',
  'success', 'timeout', 'unsupported-applications', 'unsupported-transports',
] as const;

export type JingleReason = (typeof JINGLE_REASONS)[number];

export function isJingleReason(value: string): value is JingleReason {
  return (JINGLE_REASONS as readonly string[]).includes(value);
}

export interface JingleTermination {
  readonly reason: JingleReason;
  /** The XEP-0166 <text/> to send along: the SIP status when the reason alone loses it. */
  readonly text?: string;
}

const BY_STATUS: ReadonlyMap<number, JingleReason> = new Map<number, JingleReason>([
  [486, 'busy'], [600, 'busy'],
  [603, 'decline'], [403, 'decline'],
  [408, 'timeout'], [480, 'timeout'],
  [404, 'gone'], [410, 'gone'], [604, 'gone'],
  [488, 'incompatible-parameters'], [606, 'incompatible-parameters'],
  [415, 'unsupported-applications'],
  [487, 'cancel'],
  // TS 24.611 ACR (RFC 5079 §5): 433 Anonymity Disallowed; no Jingle reason names it, the closest
  // is security-error (a policy of the callee refused the caller's privacy), with the SIP status as <text/>.
  [433, 'security-error'],
]);

/**
 * TS 24.611 ACR/CB: statuses whose reason phrase carries the barring reason the caller must see
 * ("Anonymity Disallowed", "Call Barred"...), so it goes along as <text/> next to the reason.
 */
const TEXT_KEPT: ReadonlySet<number> = new Set([433, 603]);

/**
 * A SIP final response to our INVITE -> the session-terminate reason for the Jingle side.
 * 2xx is success; anything not in the table is general-error with the status as <text/>.
 */
export function jingleReasonForSipStatus(status: number, reasonPhrase?: string): JingleTermination {
  if (status >= 200 && status < 300) return { reason: 'success' };
  const reason = BY_STATUS.get(status);
  if (reason !== undefined && TEXT_KEPT.has(status)) return { reason, text: `SIP ${status} ${reasonPhrase ?? (status === 433 ? 'Anonymity Disallowed' : 'Decline')}` };
  if (reason !== undefined) return { reason };
  return { reason: 'general-error', text: `SIP ${status}${reasonPhrase ? ` ${reasonPhrase}` : ''}` };
}

export interface SipRejection {
  readonly status: number;
  readonly reasonPhrase: string;
}

const BY_REASON: Readonly<Record<JingleReason, SipRejection>> = {
  busy: { status: 486, reasonPhrase: 'Busy Here' },
  decline: { status: 603, reasonPhrase: 'Decline' },
  timeout: { status: 408, reasonPhrase: 'Request Timeout' },
  expired: { status: 408, reasonPhrase: 'Request Timeout' },
  gone: { status: 410, reasonPhrase: 'Gone' },
  'incompatible-parameters': { status: 488, reasonPhrase: 'Not Acceptable Here' },
  'media-error': { status: 488, reasonPhrase: 'Not Acceptable Here' },
  'unsupported-applications': { status: 488, reasonPhrase: 'Not Acceptable Here' },
  'unsupported-transports': { status: 488, reasonPhrase: 'Not Acceptable Here' },
  'security-error': { status: 488, reasonPhrase: 'Not Acceptable Here' },
  cancel: { status: 487, reasonPhrase: 'Request Terminated' },
  // §10.6: "480 otherwise".
  'alternative-session': { status: 480, reasonPhrase: 'Temporarily Unavailable' },
  'connectivity-error': { status: 480, reasonPhrase: 'Temporarily Unavailable' },
  'failed-application': { status: 480, reasonPhrase: 'Temporarily Unavailable' },
  'failed-transport': { status: 480, reasonPhrase: 'Temporarily Unavailable' },
  'general-error': { status: 480, reasonPhrase: 'Temporarily Unavailable' },
  success: { status: 480, reasonPhrase: 'Temporarily Unavailable' },
};

/**
 * The Jingle responder ends an incoming call before accepting it -> the final response the
 * gateway sends to the INVITE (§10.6). After acceptance a session-terminate is a BYE instead,
 * and before acceptance from the initiator a CANCEL: no status is involved then.
 */
export function sipRejectionForJingleReason(reason: JingleReason): SipRejection {
  return BY_REASON[reason];
}
