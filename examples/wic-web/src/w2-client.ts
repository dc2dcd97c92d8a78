/**
 * The one interface the UI talks to, whatever the W2 protocol: a protocol adapter (JsSIP,
 * JSON-RPC, stanza) turns its library's events into these calls on a `W2Events` sink and
 * exposes the same verbs. One call at a time: this is a phone, not a switchboard.
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

export interface W2Events {
  registration(state: RegistrationState, detail?: string): void;
  /** A call rings here; `from` is a SIP/tel URI or a JID. */
  incoming(from: string): void;
  callState(state: CallState, detail?: string): void;
  /** The far end transferred us (REFER): a new outgoing call to `to` replaces the current one. */
  transferred(to: string): void;
  /** `true` when the far end put us on hold (a re-INVITE / session-info from them). */
  remoteHold(held: boolean): void;
  /** The call's RTCPeerConnection, as soon as it exists (quality, mute, remote audio). */
  peerConnection(pc: RTCPeerConnection): void;
  message(from: string, text: string): void;
  /** Something went wrong, in words a user understands. */
  error(text: string): void;
}

export interface W2Client {
  readonly protocol: Protocol;
  /** What this protocol cannot do here, with the reason shown to the user. */
  readonly unsupported: { readonly transfer?: string };
  /** Connects the WebSocket and registers; resolves once registered, rejects with a readable error. */
  connect(): Promise<void>;
  call(target: string): Promise<void>;
  answer(): Promise<void>;
  reject(): Promise<void>;
  hangup(): Promise<void>;
  hold(on: boolean): Promise<void>;
  transfer(target: string): Promise<void>;
  dtmf(digits: string): Promise<void>;
  sendMessage(to: string, text: string): Promise<void>;
  /** Web mode: a fresh token from the WWSF before the old one expires (refreshes and new calls carry it). */
  updateToken?(token: string): Promise<void> | void;
  /** De-registers (where the protocol can) and closes the WebSocket. */
  close(): Promise<void>;
}


/** Audio only, with what the eIMS-AGW needs (R-ALG-10: it unbundles; RTCP mux required). */
export const PC_CONFIG: RTCConfiguration = { iceServers: [], bundlePolicy: 'balanced', rtcpMuxPolicy: 'require' };

export function microphone(): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({ audio: true, video: false }).catch((error: unknown) => {
    throw new WicError(`The microphone is not available (${error instanceof Error ? error.message : String(error)}).`);
  });
}
