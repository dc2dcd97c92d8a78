/**
 * The MMTel facts the WIC shows about a call or the mailbox, whatever the protocol (no DOM types
 * here: unit tests in Node import the parsers that produce them).
 */

/** The other party of a call: a SIP/tel URI or a JID; `restricted` when they withheld it (OIR/TIR, TS 24.607/24.608). */
export interface Party {
  readonly uri: string;
  readonly restricted: boolean;
  readonly displayName?: string;
}

/** TS 24.604 CDIV: where the call was diverted and why (RFC 4458 cause: 302 unconditional, 486 busy, 408 no reply…). */
export interface Diversion {
  readonly target: string;
  readonly cause: number;
  readonly reason?: string;
}

/** TS 24.606 MWI: the message-summary counts (RFC 3842). */
export interface MessageSummary {
  readonly waiting: boolean;
  readonly newMessages: number;
  readonly oldMessages: number;
}

/** TS 24.605 CONF: one participant of a conference (RFC 4575 <user>); `left` when the focus reported it deleted. */
export interface ConferenceParticipant {
  readonly uri: string;
  readonly displayText?: string;
  /** connected, dialing-out, alerting, on-hold, disconnected… */
  readonly status?: string;
  readonly left: boolean;
}
