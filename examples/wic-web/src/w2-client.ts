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

export type { ConferenceParticipant, Diversion, MessageSummary, Party } from './mmtel-types.js';
import type { ConferenceParticipant, Diversion, MessageSummary, Party } from './mmtel-types.js';

/** TS 24.642 completion of calls, as the WIC follows it: offered with a busy failure, requested, ready (recall now), over. */
export type CallCompletionState = 'offered' | 'requested' | 'ready' | 'ended';

/** One answer of the user's XCAP server (TS 24.623 Ut): its status, ETag and body. */
export interface UtAnswer {
  readonly status: number;
  readonly etag?: string;
  readonly xml?: string;
}

/** Service configuration over Ut (TS 24.623) for the signed-in user: `node` is the RFC 4825 node selector (e.g. simservs/communication-diversion). */
export interface UtAccess {
  /** Rejects with `UtUnavailable` when this network has no Ut (no XCAP server behind epcscf). */
  get(node?: string): Promise<UtAnswer>;
  put(node: string, xml: string): Promise<UtAnswer>;
}

/** The network offers no service configuration (jsonrpc -32031, REST without an XCAP root). */
export class UtUnavailable extends WicError {}

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
  /** TS 24.642 CCBS: `callId` (an ended call) may be completed; `target` is where the recall goes once ready. */
  callCompletion?(callId: CallId, state: CallCompletionState, target?: string): void;
  /** TS 24.605 CONF: the participants of a conference this client created (RFC 4575); `full` replaces the list, `partial` changes it. */
  conferenceParticipants?(callId: CallId, conferenceUri: string, full: boolean, participants: readonly ConferenceParticipant[]): void;
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
  /** TS 24.604 CD: deflect a ringing incoming call to `target` (302 with that Contact); absent where the protocol cannot. */
  deflect?(callId: CallId, target: string): Promise<void>;
  /** TS 24.642: accept the completion-of-calls offer of the failed call `callId` ("call back when free"). */
  requestCallCompletion?(callId: CallId): Promise<void>;
  /** TS 24.642: place the recall once the callee is free (the new call is announced with `outgoing`). */
  recall?(callId: CallId): Promise<void>;
  cancelCallCompletion?(callId: CallId): Promise<void>;
  /** TS 24.605 CONF: a call to the conference factory (announced with `outgoing`); resolves with its CallId. */
  createConference?(): Promise<CallId>;
  /** TS 24.605: invite `party` into the conference call `callId` (REFER to the focus), or remove them. */
  conferenceAdd?(callId: CallId, party: string): Promise<void>;
  conferenceRemove?(callId: CallId, party: string): Promise<void>;
  /** TS 24.623 Ut: service settings, where this protocol reaches them. */
  readonly ut?: UtAccess | undefined;
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
