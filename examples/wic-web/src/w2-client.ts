/**
 * The one interface the UI talks to, whatever the W2 protocol: a protocol adapter (JsSIP,
 * JSON-RPC, stanza) turns its library's events into these calls on a `W2Events` sink and
 * exposes the same verbs. Calls are named by a `CallId` the adapter chooses; several calls may
 * be up at once (MMTel CW / ECT, TS 24.615 / 24.629) where the protocol can carry them.
 */
import { WicError } from './wic-error.js';

export { WicError };

export type Protocol = 'sip-ws' | 'jsonrpc-ws' | 'xmpp-ws';
export type AuthMode = 'web' | 'digest';

/** Who signs in, and with what: the IMS password (scenario 1) or the WWSF's token (scenarios 2/3). */
export interface Identity {
  /** sip:alice@ims.test (from the token's `impu` in web mode). */
  readonly impu: string;
  /** alice@ims.test */
  readonly impi: string;
  readonly domain: string;
  readonly displayName?: string;
  readonly password?: string;
  readonly token?: string;
}

export type RegistrationState = 'registering' | 'registered' | 'offline' | 'failed';
export type CallState = 'calling' | 'ringing' | 'incoming' | 'established' | 'ended';
export type CallId = string;

export type { Diversion, MessageSummary, Party } from './mmtel-types.js';
import type { Diversion, MessageSummary, Party } from './mmtel-types.js';

export interface W2Events {
  registration(state: RegistrationState, detail?: string): void;
  /** A call rings here; `waiting` when another call is already up (CW, TS 24.615). */
  incoming(callId: CallId, from: Party, waiting: boolean): void;
  /** An outgoing call was started (by the user, or by following a transfer). */
  outgoing(callId: CallId, to: string): void;
  callState(callId: CallId, state: CallState, detail?: string): void;
  /** TIP (TS 24.608): who answered an outgoing call. */
  connected(callId: CallId, party: Party): void;
  /** CDIV notification (TS 24.604): the call was diverted on its way. */
  diverted(callId: CallId, diversions: readonly Diversion[]): void;
  /** The far end transferred us (REFER), or our call was replaced (Replaces): `next` takes `previous`'s place. */
  transferred(previous: CallId, next: CallId, to: string): void;
  /** `true` when the far end put us on hold (a re-INVITE / session-info from them). */
  remoteHold(callId: CallId, held: boolean): void;
  /** A DTMF tone from the far end (SIP INFO), where the protocol reports it. */
  dtmfReceived(callId: CallId, tone: string): void;
  /** The call's RTCPeerConnection, as soon as it exists (quality, mute, remote audio). */
  peerConnection(callId: CallId, pc: RTCPeerConnection): void;
  /** MWI (TS 24.606), where the protocol carries message-summary. */
  messageSummary(summary: MessageSummary): void;
  message(from: string, text: string): void;
  /** Something went wrong, in words a user understands. */
  error(text: string): void;
}

/** What a protocol cannot do here, with the reason shown to the user; the UI hides or disables the control. */
export interface Unsupported {
  readonly transfer?: string;
  readonly consultativeTransfer?: string;
  readonly multipleCalls?: string;
  readonly dtmf?: string;
}

export interface W2Client {
  readonly protocol: Protocol;
  readonly unsupported: Unsupported;
  /** Connects the WebSocket and registers; resolves once registered, rejects with a readable error. */
  connect(): Promise<void>;
  /** Places a call; announces it with `outgoing` before anything else happens to it. */
  call(target: string): Promise<void>;
  answer(callId: CallId): Promise<void>;
  /** `busy`: 486 Busy Here (a waiting call, TS 24.615); otherwise 603 Decline. */
  reject(callId: CallId, busy?: boolean): Promise<void>;
  hangup(callId: CallId): Promise<void>;
  hold(callId: CallId, on: boolean): Promise<void>;
  /** Blind transfer (TS 24.629): REFER the other party to `target`. */
  transfer(callId: CallId, target: string): Promise<void>;
  /** Consultative transfer (TS 24.629): connect the party of `callId` with the party of `consultation` (REFER with Replaces, RFC 3891). */
  consultativeTransfer(callId: CallId, consultation: CallId): Promise<void>;
  dtmf(callId: CallId, digits: string): Promise<void>;
  sendMessage(to: string, text: string): Promise<void>;
  /** Web mode: a fresh token from the WWSF before the old one expires (refreshes and new calls carry it). */
  updateToken?(token: string): Promise<void> | void;
  /** De-registers (where the protocol can) and closes the WebSocket. */
  close(): Promise<void>;
}

/** RFC 3323 / TS 24.607: the anonymous forms a restricted identity arrives in. */
export function isRestricted(uri: string): boolean {
  return /^(sips?:)?anonymous@/i.test(uri) || /@anonymous\.invalid/i.test(uri) || uri === 'anonymous';
}

/** Audio only, with what the eIMS-AGW needs (R-ALG-10: it unbundles; RTCP mux required). */
export const PC_CONFIG: RTCConfiguration = { iceServers: [], bundlePolicy: 'balanced', rtcpMuxPolicy: 'require' };

export function microphone(): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({ audio: true, video: false }).catch((error: unknown) => {
    throw new WicError(`The microphone is not available (${error instanceof Error ? error.message : String(error)}).`);
  });
}
