/**
 * core/ua — the virtual Gm UE (docs/architecture.md): the public types a non-SIP plugin
 * (jsonrpc-ws, later xmpp-ws) programs against. One `VirtualUe` per W2 client; it produces
 * exactly the SIP a TS 24.229 UE would send and hands it to the core through `UaTransport`
 * (host.sip.fromClient), so core/pcscf treats it like any SIP-over-WebSocket client.
 *
 * The W2 seam is reliable and in-process (like a WebSocket), so the UE never retransmits
 * (RFC 3261 §17.1.1.2: Timer A only on unreliable transports); transaction timeouts toward the
 * IMS are the P-CSCF's job and come back as 408/503 responses.
 *
 * Errors: a local misuse (wrong state, unknown call) rejects with EpcError (EPC_ERR_INVALID_STATE,
 * EPC_ERR_UA_*); a SIP outcome is never a rejection of a state-changing call: it is reported by
 * an event that carries the SIP status (R-JR-3), except where a method's doc says it resolves
 * with the final response.
 */
import type { RegistrationSnapshot } from './registration-snapshot.js';
import type { EventEmitter } from 'node:events';
import type { SipMessage, SipRequest, SipResponse } from '../sip/model/message.js';

/** How the UE reaches the core: `host.sip.fromClient` bound to one W2 connection. */
export interface UaTransport {
  send(message: SipMessage): Promise<void>;
}

/**
 * The client's IMS identity and its credential (TS 24.371 §6): scenario 1 gives the digest
 * password; scenarios 2/3 give the web token (a JWT) the WWSF/WAF issued. Never both.
 */
export interface UaIdentity {
  /** Public user identity, e.g. 'sip:alice@ims.test' (IMPU). */
  readonly impu: string;
  /** Private identity (digest username); default: the IMPU's user@host (TS 23.003 §13.3 form). */
  readonly impi?: string;
  /** Digest password; without it a 401/407 ends the registration as failed. */
  readonly password?: string;
  /**
   * Scenario 2/3 web token (RFC 6750 §2.1 b64token, a JWT): every initial request, REGISTER
   * included, carries `Authorization: Bearer <token>` (R-REG-1, R-REG-3); the P-CSCF validates
   * it and registers the user as a trusted node (R-REG-9). A refusal is a final 403 (or 503 when
   * the issuer's keys are unreachable) whose reason phrase says why (RegistrationInfo.reason).
   * Exclusive with `password`.
   */
  readonly token?: string;
  readonly displayName?: string;
}

export interface VirtualUeOptions {
  readonly transport: UaTransport;
  readonly identity: UaIdentity;
  /** Registrar (home network domain) Request-URI, e.g. 'sip:ims.test'. Default: the IMPU's host. */
  readonly registrar?: string;
  /** RFC 5626 instance id, 'urn:uuid:…'. Default: a fresh UUID (a resuming client passes its own). */
  readonly instanceId?: string;
  /** RFC 5626 reg-id; default 1. */
  readonly regId?: number;
  /** Via transport WSS (true) or WS (false), like the real connection (RFC 7118 §5.2). */
  readonly secure: boolean;
  /** Requested registration expiry in seconds; default 600000 (24.229 §5.1.1.2.1 proposes 600000). */
  readonly expires?: number;
  /** User-Agent header; default 'epcscf-ua/<version>'. */
  readonly userAgent?: string;
  /** RFC 4028 session timer requested on INVITE, seconds; default 1800, 0 = none. */
  readonly sessionExpires?: number;
  /**
   * Carry on a registration this client already has (issue #15: it resumed on another node): the
   * UE starts registered with the snapshot's Call-ID, Contact, instance, CSeq, Service-Route and
   * digest state, sends no REGISTER now and refreshes when the snapshot says (R-REG-23). Its
   * instanceId/regId win over the options'.
   */
  readonly adopt?: RegistrationSnapshot;
}

export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'unregistering' | 'failed';

export interface RegistrationInfo {
  readonly state: RegistrationState;
  /** Granted expiry (seconds) while registered. */
  readonly expires?: number;
  /** P-Associated-URI of the 200 (the implicit registration set, first = default IMPU). */
  readonly associatedUris?: readonly string[];
  /** Final SIP status that led here (200, 403, 408…), when one did. */
  readonly status?: number;
  readonly reason?: string;
}

/** Who is calling or being called, as the network asserted it. */
export interface PartyIdentity {
  readonly uri: string;
  readonly displayName?: string;
  /** True when the caller asked for privacy (RFC 3323 Privacy: id/header/user): show as anonymous. */
  readonly anonymous?: boolean;
}

export interface OutgoingCallOptions {
  /** The WIC's SDP offer (WebRTC SDP, as RTCPeerConnection produced it). */
  readonly sdp: string;
  /** RFC 3323/3325 caller-ID privacy: 'id' hides the asserted identity (OIR). */
  readonly privacy?: 'none' | 'id' | 'header' | 'user';
  /** Extra headers the plugin needs (e.g. Replaces for attended transfer, Referred-By). */
  readonly headers?: Readonly<Record<string, string>>;
}

export type CallState =
  | 'calling'     // INVITE sent, nothing back beyond 100
  | 'ringing'     // incoming, not yet answered; or outgoing with a 18x
  | 'early'       // early dialog with SDP (183 / reliable 18x)
  | 'answering'   // incoming: 200 sent, ACK pending
  | 'confirmed'
  | 'terminated';

export type CallEndCause =
  | 'local'       // this side hung up (BYE sent) or cancelled
  | 'remote'      // the other side sent BYE / CANCEL
  | 'rejected'    // a final non-2xx response (status carries it) or local reject
  | 'failed'      // no answer / transport / timer expiry (408, 481 to re-INVITE…)
  | 'connection'; // the W2 client went away

export interface CallEndInfo {
  readonly cause: CallEndCause;
  /** The SIP status that ended it, when there was one (486, 487, 603, 408…). */
  readonly status?: number;
  readonly reason?: string;
  /** The Reason header (RFC 3326), e.g. 'SIP;cause=200;text="Call completed elsewhere"'. */
  readonly reasonHeader?: string;
  /** TS 24.642 / RFC 6910: the failed call's response offered completion of calls (CCBS/CCNR). */
  readonly callCompletion?: UaCallCompletionOffer;
}

/** TS 24.604 CDIV notification: see history-info.ts. */
export type { UaDiversion } from './history-info.js';
import type { UaDiversion } from './history-info.js';
/** TS 24.642 CCBS/CCNR (RFC 6910): see call-completion.ts. */
export type { CallCompletionMode, CallCompletionStatus, UaCallCompletionOffer } from './call-completion.js';
import type { CallCompletionStatus, UaCallCompletionOffer } from './call-completion.js';

export interface CallEvents {
  /**
   * A provisional response (180/183); `sdp` when it carried an answer (early media); `waiting`
   * when it carried `Alert-Info: <urn:alert:service:call-waiting>` (TS 24.615, RFC 7462: the
   * callee is busy in another call and is being told of this one); `callCompletion` when it
   * offers completion of calls (TS 24.642 CCNR).
   */
  progress: [info: { status: number; reason: string; sdp?: string; diversion?: readonly UaDiversion[]; waiting?: boolean; callCompletion?: UaCallCompletionOffer }];
  /**
   * 2xx to our INVITE (outgoing) or ACK received (incoming): the call is up. `connected`: outgoing only, who answered (TIP, TS 24.608).
   * `focus`: outgoing only, the conference URI when the 2xx Contact carries `isfocus` (RFC 4579 §5.3, TS 24.147 §5.3.1.3.2).
   */
  answered: [info: { sdp?: string; connected?: PartyIdentity; focus?: string }];
  /** The remote side renegotiated (re-INVITE / UPDATE); `direction` is its a= direction. */
  updated: [info: { sdp: string; direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' }];
  /** The remote side asks us to transfer (REFER, RFC 3515) — call accept() or reject(). */
  referred: [request: UaTransferRequest];
  /** NOTIFY sipfrag progress of a transfer we asked for (RFC 3515 §2.4.5). */
  transferprogress: [info: { status: number; reason: string; final: boolean }];
  /** INFO received (e.g. application/dtmf-relay). */
  info: [info: { contentType: string; body: string }];
  ended: [info: CallEndInfo];
}

/** A body part of an incoming INVITE beside the SDP (R-MMTEL-3: opaque, typed). */
export interface UaAttachment {
  /** The part's Content-Type as sent, e.g. 'application/vnd.3gpp.cw+xml'. */
  readonly contentType: string;
  /** The part's body, UTF-8 decoded. */
  readonly body: string;
}

export interface UaTransferRequest {
  readonly target: string;
  readonly referredBy?: string;
  /** The Replaces value of an attended transfer, when Refer-To carried one. */
  readonly replaces?: string;
  /** 202 to the REFER; then the plugin places the new call and reports its outcome. */
  accept(): Promise<void>;
  reject(status?: number): Promise<void>;
  /**
   * NOTIFY sipfrag toward the transferor (RFC 3515 §2.4.4): '100 Trying', '200 OK', '486 Busy'...
   * accept() already sends the initial '100 Trying'; a status >= 200 ends the subscription.
   * Resolves once the transferor answered the NOTIFY.
   */
  notify(status: number, reason: string): Promise<void>;
}

/** How an incoming call is answered (TS 24.608 TIR). */
export interface AnswerOptions {
  readonly privacy?: 'none' | 'id';
}

export interface UaCall extends EventEmitter<CallEvents> {
  /** Local handle (stable, not the SIP Call-ID). */
  readonly id: string;
  readonly sipCallId: string;
  readonly direction: 'outgoing' | 'incoming';
  readonly state: CallState;
  readonly remote: PartyIdentity;
  /** Incoming: the INVITE's offer (undefined for an offerless INVITE). */
  readonly remoteOffer: string | undefined;
  /**
   * Incoming INVITE with Replaces (RFC 3891, attended transfer): the `id` of this UE's call it
   * replaces; that call is ended (BYE/CANCEL) once this one is answered. Added by core/ua.
   */
  readonly replaces?: string | undefined;
  /**
   * Incoming: the AS marked it as a waiting call (TS 24.615: an application/vnd.3gpp.cw+xml body
   * part or Alert-Info <urn:alert:service:call-waiting>). Added by core/ua.
   */
  readonly waiting?: boolean;
  /** Incoming: the INVITE's body parts other than the SDP (multipart/mixed, R-MMTEL-3). Added by core/ua. */
  readonly attachments?: readonly UaAttachment[];
  /** This side holds the call (hold() without resume() since, TS 24.610). Added by core/ua. */
  readonly onHold?: boolean;
  /** Incoming: 180 (or 183 with SDP for early media, sent reliably when the caller supports 100rel). */
  ring(earlySdp?: string): Promise<void>;
  /**
   * Incoming: 200 with the WIC's answer; resolves when sent ('answered' follows the ACK).
   * `privacy: 'id'`: TS 24.608 TIR, the 200 carries `Privacy: id` (RFC 3323 §4.2).
   */
  answer(sdp: string, options?: AnswerOptions): Promise<void>;
  /** Incoming, before answer: a final error response (default 486 Busy Here). */
  reject(status?: number, reason?: string): Promise<void>;
  /**
   * Incoming, before answer: communication deflection (TS 24.604 CD, spec-digest §11): 302 Moved
   * Temporarily whose only Contact is `target` (a SIP or tel URI); the network redirects the call.
   */
  deflect(target: string): Promise<void>;
  /** Outgoing, before answer: CANCEL (RFC 3261 §9). */
  cancel(): Promise<void>;
  /** Ends the call whatever its state: CANCEL, reject or BYE as the state needs. */
  hangup(): Promise<void>;
  /** Renegotiates with a new offer: UPDATE in early state, re-INVITE when confirmed; resolves with the answer SDP. */
  update(sdp: string): Promise<string>;
  /** Re-INVITE with the last local SDP set to sendonly (or inactive if it was recvonly) — 3GPP TS 24.610. */
  hold(): Promise<string>;
  /** Re-INVITE back to sendrecv. */
  resume(): Promise<string>;
  /** DTMF as SIP INFO application/dtmf-relay (one INFO per digit). */
  dtmf(digits: string, durationMs?: number): Promise<void>;
  /** Blind (target URI) or attended (another UaCall: REFER with Replaces) transfer, RFC 3515/3891. */
  transfer(target: string | UaCall): Promise<void>;
  /**
   * CONF (TS 24.605 §4.5.2, RFC 4579 §5.5/§5.10): REFER inside this conference dialog (Request-URI =
   * the focus) with `Refer-To: <party;method=INVITE>` to add a party or `method=BYE` to remove one.
   * Resolves on the 2xx (202); the focus's NOTIFY sipfrag follows as 'transferprogress'.
   */
  referParty(party: string, method: 'INVITE' | 'BYE'): Promise<void>;
  /** A JSON-safe snapshot for admin views. */
  describe(): Record<string, unknown>;
}

export interface UaIncomingMessage {
  readonly from: PartyIdentity;
  readonly contentType: string;
  readonly body: string;
}

export interface SubscriptionEvents {
  notify: [info: { state: 'active' | 'pending' | 'terminated'; contentType?: string; body?: string }];
  terminated: [info: { status?: number; reason?: string }];
}

export interface UaSubscription extends EventEmitter<SubscriptionEvents> {
  readonly id: string;
  /** The event package: 'reg' (RFC 3680), 'message-summary' (RFC 3842), … */
  readonly event: string;
  unsubscribe(): Promise<void>;
}

export interface CallCompletionEvents {
  /** A NOTIFY's cc-state (RFC 6910 §10): queued, ready… */
  state: [status: CallCompletionStatus];
  /** cc-state: ready — the callee is free: recall() now (TS 24.642 §4.5.4). */
  ready: [status: CallCompletionStatus];
  /** The subscription ended (NOTIFY terminated, refused refresh, cancel(), connection gone). */
  terminated: [info: { status?: number; reason?: string }];
}

/** A completion-of-calls request the UE holds: the call-completion subscription to the CC monitor. */
export interface UaCallCompletion extends EventEmitter<CallCompletionEvents> {
  readonly id: string;
  readonly offer: UaCallCompletionOffer;
  /** The last cc-state the monitor reported ('requested' until the first NOTIFY). */
  readonly state: string;
  /**
   * The CC call (RFC 6910 §7.4): INVITE to the NOTIFY's cc-URI, else the original target, with
   * the offer's `m` URI parameter. Events report it like any call.
   */
  recall(options: OutgoingCallOptions): Promise<UaCall>;
  /** Withdraws the request: SUBSCRIBE Expires 0 (RFC 6665 §4.1.2.3). */
  cancel(): Promise<void>;
}

export interface VirtualUeEvents {
  registration: [info: RegistrationInfo];
  /** A terminating INVITE: the plugin tells its client, then rings/answers/rejects. */
  incoming: [call: UaCall, from: PartyIdentity];
  /** A MESSAGE (RFC 3428) for this client; the UE has already answered 200. */
  message: [message: UaIncomingMessage];
  /** An out-of-dialog NOTIFY with no subscription (unsolicited MWI, RFC 3842 §4.1). */
  unsolicitednotify: [info: { event: string; contentType: string; body: string }];
}

export interface VirtualUe extends EventEmitter<VirtualUeEvents> {
  readonly instanceId: string;
  readonly registration: RegistrationInfo;
  readonly calls: ReadonlyMap<string, UaCall>;
  /** REGISTER (with digest when challenged); resolves with the outcome, refreshes per R-REG-23. */
  register(): Promise<RegistrationInfo>;
  /** REGISTER Expires: 0 (R-REG-24); resolves once the registrar answered. */
  unregister(): Promise<RegistrationInfo>;
  /** What another node needs to carry the registration on (`adopt`), while registered; else undefined. */
  registrationSnapshot(): RegistrationSnapshot | undefined;
  /**
   * Replaces the web token (identity.token) for every later request: refreshes, calls, messages
   * (R-REG-3). Nothing is sent now. Throws EPC_ERR_UA_INVALID_ARGUMENT when the UE was made with
   * a password, or when `token` is not an RFC 6750 b64token.
   */
  updateToken(token: string): void;
  /** INVITE to `target` (SIP or tel URI); events report what follows. */
  call(target: string, options: OutgoingCallOptions): Promise<UaCall>;
  /** MESSAGE (RFC 3428); resolves with the final status (2xx = accepted). */
  message(target: string, body: string, contentType?: string): Promise<{ status: number; reason: string }>;
  /** SUBSCRIBE; resolves once the 2xx arrived (rejects with EPC_ERR_UA_REJECTED carrying the status otherwise). */
  subscribe(event: string, target?: string, expires?: number): Promise<UaSubscription>;
  /**
   * Accepts a completion-of-calls offer (TS 24.642, RFC 6910 §7.2): SUBSCRIBE Event:
   * call-completion to the offer's cc URI with its `m` URI parameter; resolves on the 2xx
   * (rejects with EPC_ERR_UA_REJECTED carrying the status otherwise).
   */
  requestCallCompletion(offer: UaCallCompletionOffer): Promise<UaCallCompletion>;
  /** Feed it every SIP message the core sends this client (session onSipRequest / onSipResponse). */
  receive(message: SipRequest | SipResponse): void;
  /**
   * The W2 client went away: stop timers, forget calls (the core already releases dialogs and
   * registrations of the connection), emit 'ended' with cause 'connection'. No SIP is sent.
   */
  close(): void;
  describe(): Record<string, unknown>;
}
