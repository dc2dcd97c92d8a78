/**
 * Jingle (XEP-0166/0167) ⇄ SIP calls through the virtual UE, spec-digest §10.2-10.6:
 *   session-initiate ⇄ INVITE, ringing ⇄ 180/183, session-accept ⇄ 200/ACK,
 *   session-terminate ⇄ BYE / CANCEL / 4xx-6xx (reasons both ways, interworking/),
 *   session-info hold/unhold ⇄ re-INVITE direction, XEP-0181 DTMF → SIP INFO,
 *   transport-info (trickle) buffered until the SDP leaves, absorbed after (R-SDP-9).
 * An incoming INVITE reaches a client that advertises XEP-0353 as <propose/> (session-initiate
 * after its <proceed/>), any other client as a direct session-initiate.
 */
import { randomUUID } from 'node:crypto';
import { EpcError } from '../../../core/contract/index.js';
import type { CallEndInfo, PartyIdentity, UaCall, UaTransferRequest, VirtualUe } from '../../../core/contract/index.js';
import { jidOfParty, mappedPeer, type MappedPeer } from '../address/peer-jid.js';
import type { ClientLink } from '../client-link.js';
import { jingleReasonForSipStatus, sipRejectionForJingleReason, type JingleTermination } from '../interworking/jingle-reason-sip.js';
import { jingleToSdp } from '../jingle/jingle-to-sdp.js';
import { JingleMappingError } from '../jingle/mapping-error.js';
import { sdpToJingle } from '../jingle/sdp-to-jingle.js';
import type { XmppWsOptions } from '../options.js';
import { BAD_REQUEST, FEATURE_NOT_IMPLEMENTED, iqResult, stanzaError, type StanzaErrorSpec } from '../stanza/stanza-builders.js';
import { childOf, xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { jingleError, jingleIq, jingleMessage, proposedDescriptions, reasonOf, sessionInfo, sessionTerminate } from './jingle-elements.js';
import { anonymousJid, asksForPrivacy, markRestricted, MMTEL_NS } from './mmtel-identity.js';
import { hasCandidates, withTrickledCandidates } from './trickle-buffer.js';
import { sessionInfoDiverted } from './diverted-element.js';
import { sessionInfoDtmf } from './dtmf-element.js';
import { markWaiting, sessionInfoWaiting } from './waiting-element.js';
import { CallCompletionBridge, callCompletionOfferElement, deflectTarget, recalledSession, withChild } from './call-completion-bridge.js';
import {
  TRANSFER_NS, sessionInfoTransfer, sessionInfoTransferProgress, sessionTerminateTransferred, transferOf, withReplacedSession,
} from './transfer-elements.js';

/** A REFER the client accepted (XEP-0251 transferee), waiting for its session-initiate to the target. */
interface PendingTransfer {
  readonly request: UaTransferRequest;
  /** The target's bare JID (the `to` of the session-initiate that honours it). */
  readonly target: string;
  /** The opaque sid handed to the client for an attended transfer (stands for the Replaces value). */
  readonly token: string | undefined;
}

interface JingleCall {
  readonly sid: string;
  readonly direction: 'outgoing' | 'incoming';
  /** The SIP party's bare JID (the `from` of what the gateway sends for it). */
  readonly peer: string;
  call: UaCall | undefined;
  /** transport-info received before the SDP left. */
  readonly trickle: XmlElement[];
  sdpSent: boolean;
  /** Incoming via XEP-0353: the session-initiate waiting for <proceed/>. */
  pendingInitiate: XmlElement | undefined;
  ringingSent: boolean;
  ended: boolean;
  /** The client put the call on hold (its <hold/>); its <unhold/> or <active/> resumes it. */
  heldByClient: boolean;
  /** TS 24.629: an INVITE with Replaces took this session over (ended with <transferred/>). */
  replaced?: boolean;
}

/** XEP-0166 §7.2 (F-JNG-2): the defined actions. */
const JINGLE_ACTIONS: ReadonlySet<string> = new Set([
  'content-accept', 'content-add', 'content-modify', 'content-reject', 'content-remove', 'description-info', 'security-info',
  'session-accept', 'session-info', 'session-initiate', 'session-terminate', 'transport-accept', 'transport-info',
  'transport-reject', 'transport-replace',
]);

const ITEM_NOT_FOUND: StanzaErrorSpec = jingleError({ condition: 'item-not-found', type: 'cancel' }, 'unknown-session');

/** CONF: where a conference session-initiate goes, and who follows its call. */
export interface ConferenceHook {
  readonly factoryUri: string;
  created(sid: string, call: UaCall): void;
}

export class JingleCalls {
  readonly #link: ClientLink;
  readonly #ue: VirtualUe;
  readonly #options: XmppWsOptions;
  readonly #calls = new Map<string, JingleCall>();
  /** XEP-0353 proposals the client made toward a SIP user, answered with <proceed/>. */
  readonly #proposals = new Set<string>();
  /** TS 24.642 CCBS/CCNR offers and requests (call-completion-bridge.ts). */
  readonly #completion: CallCompletionBridge;

  /**
   * CONF (TS 24.605, mmtel/conference.ts): a session-initiate whose <jingle/> carries
   * <conference xmlns='urn:epcscf:mmtel:0'/> goes to this factory URI, and its call is handed over.
   */
  conference: ConferenceHook | undefined;
  /** XEP-0251 transferee: accepted REFERs waiting for the client's new session. */
  readonly #transfers: PendingTransfer[] = [];

  constructor(link: ClientLink, ue: VirtualUe, options: XmppWsOptions) {
    this.#link = link;
    this.#ue = ue;
    this.#options = options;
    this.#completion = new CallCompletionBridge(link, ue);
  }

  /** The client's <call-completion xmlns='urn:epcscf:mmtel:0' sid/> IQ to a SIP user (TS 24.642). */
  callCompletionIq(iq: XmlElement, payload: XmlElement): Promise<void> {
    return this.#completion.iq(iq, payload);
  }

  get size(): number {
    return this.#calls.size;
  }

  /** The SIP call of a Jingle session, once it has one. */
  callOf(sid: string): UaCall | undefined {
    return this.#calls.get(sid)?.call;
  }

  /** The stream ended: the core releases the SIP side (the UE is closed after this). */
  close(): void {
    this.#calls.clear();
    this.#proposals.clear();
    this.#completion.close();
    this.#transfers.length = 0;
  }

  // ---- from the client ----------------------------------------------------------------------------

  /** An IQ set with <jingle/> addressed to a SIP user. */
  async jingleIq(iq: XmlElement, jingle: XmlElement, peer: MappedPeer): Promise<void> {
    const sid = jingle.attrs.sid;
    const action = jingle.attrs.action;
    const refuse = (spec: StanzaErrorSpec): void => this.#link.send(stanzaError(iq, iq.attrs.to, this.#link.fullJid, spec));
    const ack = (): void => this.#link.send(iqResult(iq, iq.attrs.to, this.#link.fullJid));
    // F-JNG-2: an unknown action is a bad-request, whatever the session.
    if (sid === undefined || sid === '' || action === undefined || !JINGLE_ACTIONS.has(action)) return refuse(BAD_REQUEST);
    if (action === 'session-initiate') return this.#initiate(iq, jingle, sid, peer, refuse, ack);
    const entry = this.#calls.get(sid);
    if (entry === undefined || entry.peer !== peer.bare) return refuse(ITEM_NOT_FOUND);
    switch (action) {
      case 'transport-info':
        ack();
        if (!entry.sdpSent) entry.trickle.push(jingle);
        return;
      case 'session-accept': return this.#accept(entry, jingle, refuse, ack);
      case 'session-info': return this.#info(entry, jingle, refuse, ack);
      case 'session-terminate':
        ack();
        return this.#terminateFromClient(entry, jingle);
      default:
        // F-JNG-2: content-*, description-info, security-info, transport-accept/reject/replace
        // are known actions this gateway does not map to SIP.
        return refuse(FEATURE_NOT_IMPLEMENTED);
    }
  }

  /** A <message/> with an XEP-0353 payload. */
  jingleMessage(message: XmlElement): void {
    const payload = message.children.find((child) => child.ns === NS.jingleMessage);
    const sid = payload?.attrs.id;
    if (payload === undefined || sid === undefined) return;
    const to = message.attrs.to;
    switch (payload.name) {
      case 'propose': {
        // The client rings a SIP user: the gateway answers for that user at once; the call itself
        // starts with the session-initiate that follows (XEP-0353 §3.2).
        if (to === undefined) return;
        this.#proposals.add(sid);
        this.#link.send(jingleMessage(to, this.#link.fullJid, 'proceed', sid));
        return;
      }
      case 'retract':
        this.#proposals.delete(sid);
        return;
      case 'proceed': {
        const entry = this.#calls.get(sid);
        const initiate = entry?.pendingInitiate;
        if (entry === undefined || initiate === undefined) return;
        entry.pendingInitiate = undefined;
        void this.#sendInitiate(entry, initiate);
        return;
      }
      case 'reject': {
        const entry = this.#calls.get(sid);
        if (entry?.call === undefined) return;
        this.#forget(entry);
        const rejection = sipRejectionForJingleReason(childOf(payload, 'reason', NS.jingle) !== undefined ? reasonOf(payload) : 'decline');
        entry.call.reject(rejection.status, rejection.reasonPhrase).catch((error: unknown) => this.#fault(error));
        return;
      }
      case 'ringing': {
        const entry = this.#calls.get(sid);
        if (entry !== undefined) this.#ringSip(entry);
        return;
      }
      default:
        return;
    }
  }

  async #initiate(iq: XmlElement, jingle: XmlElement, sid: string, peer: MappedPeer, refuse: (spec: StanzaErrorSpec) => void, ack: () => void): Promise<void> {
    // F-JNG-6: a session-initiate for a sid in use is a conflict (tie-break).
    if (this.#calls.has(sid)) return refuse(jingleError({ condition: 'conflict', type: 'cancel' }, 'tie-break'));
    if (this.#calls.size >= this.#options.maxCallsPerClient) return refuse({ condition: 'resource-constraint', type: 'wait', text: 'too many calls on this connection' });
    // Checked before the acknowledgement: a description that cannot become SDP is refused outright.
    if (!this.#mapsToSdp(jingle, 'initiator', refuse)) return;
    const entry: JingleCall = { sid, direction: 'outgoing', peer: peer.bare, call: undefined, trickle: [], sdpSent: false, pendingInitiate: undefined, ringingSent: false, ended: false, heldByClient: false };
    this.#calls.set(sid, entry);
    this.#proposals.delete(sid);
    ack(); // F-JNG-5: the IQ result is the "100 Trying"
    const sdp = await this.#sdpWithTrickle(entry, jingle, 'initiator');
    if (entry.ended || sdp === undefined) return;
    let call: UaCall;
    const conference = childOf(jingle, 'conference', MMTEL_NS) !== undefined ? this.conference : undefined;
    // XEP-0251 transferee: a session-initiate with <transfer/> honours a REFER the client accepted.
    const honoured = this.#takeTransfer(jingle, peer.bare);
    const headers: Record<string, string> = {};
    if (honoured?.request.referredBy !== undefined) headers['Referred-By'] = honoured.request.referredBy; // RFC 3892 §3
    if (honoured?.request.replaces !== undefined) headers['Replaces'] = honoured.request.replaces; // RFC 3891 §3
    try {
      // TS 24.607 OIR on request: <privacy xmlns='urn:epcscf:mmtel:0'/> → Privacy: id.
      const options = { sdp, headers, ...(asksForPrivacy(jingle) ? { privacy: 'id' as const } : {}) };
      // TS 24.642 / RFC 6910 §7.4: a session-initiate naming a failed session is its CC call (recall).
      const recalled = recalledSession(jingle);
      const completion = recalled !== undefined ? this.#completion.request(recalled) : undefined;
      // TS 24.605: a session-initiate marked <conference/> goes to the conference factory URI.
      call = completion !== undefined ? await completion.recall(options) : await this.#ue.call(conference?.factoryUri ?? peer.uri, options);
    } catch (error) {
      const status = error instanceof EpcError && 'status' in error && typeof error.status === 'number' ? error.status : 500;
      this.#link.log.info({ err: error }, 'xmpp-ws: INVITE not sent');
      honoured?.request.notify(status, 'Transfer Failed').catch(() => undefined);
      return this.#endToClient(entry, jingleReasonForSipStatus(status));
    }
    entry.call = call;
    if (honoured !== undefined) this.#reportTo(honoured.request, call);
    if (entry.ended) { call.hangup().catch((error: unknown) => this.#fault(error)); return; }
    this.#wireCall(entry, call);
    conference?.created(sid, call);
  }

  /** The accepted REFER a session-initiate's <transfer/> names (same target; same sid if attended). */
  #takeTransfer(jingle: XmlElement, target: string): PendingTransfer | undefined {
    const transfer = transferOf(jingle);
    if (transfer === undefined) return undefined;
    const index = this.#transfers.findIndex((p) => p.target === target && (p.token === undefined || p.token === transfer.attrs.sid));
    if (index < 0) return undefined;
    return this.#transfers.splice(index, 1)[0];
  }

  /** RFC 3515 §2.4.4-2.4.5: the new call's progress, as NOTIFY sipfrag toward the transferor. */
  #reportTo(request: UaTransferRequest, call: UaCall): void {
    let answered = false;
    const tell = (status: number, reason: string): void => { request.notify(status, reason).catch(() => undefined); };
    call.on('progress', ({ status, reason }) => tell(status, reason));
    call.on('answered', () => { answered = true; tell(200, 'OK'); });
    call.on('ended', (info) => { if (!answered) tell(info.status ?? 487, info.reason ?? 'Request Terminated'); });
  }

  /** XEP-0251 transferor: session-info <transfer to [sid]/> → REFER (RFC 3515, RFC 3891 with sid). */
  async #transfer(entry: JingleCall, transfer: XmlElement, refuse: (spec: StanzaErrorSpec) => void, ack: () => void): Promise<void> {
    const call = entry.call;
    const target = mappedPeer(transfer.attrs.to, this.#link.domain);
    if (call === undefined || call.state !== 'confirmed') return refuse(jingleError({ condition: 'unexpected-request', type: 'wait' }, 'out-of-order'));
    const consultation = transfer.attrs.sid !== undefined ? this.#calls.get(transfer.attrs.sid)?.call : undefined;
    if (transfer.attrs.sid !== undefined && (consultation === undefined || consultation.state !== 'confirmed' || consultation === call)) {
      return refuse({ condition: 'item-not-found', type: 'cancel', text: 'the sid of <transfer/> names no other established session' });
    }
    if (consultation === undefined && target === undefined) return refuse({ condition: 'bad-request', type: 'modify', text: '<transfer/> needs a to= user of this domain' });
    ack(); // XEP-0251 §2: the transferee understood the request
    try {
      await call.transfer(consultation ?? target?.uri ?? '');
    } catch (error) {
      // A refused REFER (or none sent): the client learns it as a final progress report.
      const status = error instanceof EpcError && 'status' in error && typeof error.status === 'number' ? error.status : 500;
      this.#toClient(entry, sessionInfoTransferProgress(entry.sid, { status, reason: 'Transfer Refused', final: true }));
      this.#fault(error);
    }
  }

  /** XEP-0251 transferee: a REFER → session-info <transfer/>; the client's IQ result accepts it (202). */
  async #referred(entry: JingleCall, request: UaTransferRequest): Promise<void> {
    const target = jidOfParty(request.target, this.#link.domain);
    if (target === undefined || mappedPeer(target, this.#link.domain) === undefined) {
      await request.reject(603).catch((error: unknown) => this.#fault(error)); // no JID the client could call
      return;
    }
    const token = request.replaces !== undefined ? randomUUID() : undefined;
    const from = entry.peer;
    const answer = await this.#link.request(jingleIq(entry.peer, this.#link.fullJid, sessionInfoTransfer(entry.sid, { to: target, from, ...(token !== undefined ? { sid: token } : {}) })));
    if (answer?.attrs.type !== 'result') {
      await request.reject(603).catch((error: unknown) => this.#fault(error)); // RFC 3515 §2.4.2: declined
      return;
    }
    this.#transfers.push({ request, target, token });
    await request.accept().catch((error: unknown) => this.#fault(error));
  }

  async #accept(entry: JingleCall, jingle: XmlElement, refuse: (spec: StanzaErrorSpec) => void, ack: () => void): Promise<void> {
    const call = entry.call;
    if (entry.direction !== 'incoming' || call === undefined || entry.sdpSent) return refuse(jingleError({ condition: 'unexpected-request', type: 'wait' }, 'out-of-order'));
    if (!this.#mapsToSdp(jingle, 'responder', refuse)) return;
    ack();
    const sdp = await this.#sdpWithTrickle(entry, jingle, 'responder');
    if (entry.ended || sdp === undefined) return;
    // TS 24.608 TIR: <privacy xmlns='urn:epcscf:mmtel:0'/> in the session-accept → Privacy: id in the 200.
    await call.answer(sdp, asksForPrivacy(jingle) ? { privacy: 'id' } : {}).catch((error: unknown) => this.#fault(error));
  }

  async #info(entry: JingleCall, jingle: XmlElement, refuse: (spec: StanzaErrorSpec) => void, ack: () => void): Promise<void> {
    const payload = jingle.children[0];
    // XEP-0166 §7.2.11: an empty session-info is a ping.
    if (payload === undefined) return ack();
    const call = entry.call;
    if (payload.ns === NS.jingleRtpInfo) {
      ack();
      if (call === undefined) return;
      switch (payload.name) {
        case 'ringing': return this.#ringSip(entry);
        // F-JRTP-3 / TS 24.610: hold and unhold are re-INVITEs with the direction changed.
        case 'hold':
          if (call.state !== 'confirmed') return;
          entry.heldByClient = true;
          await call.hold().catch((error: unknown) => this.#fault(error));
          return;
        // F-JRTP-3: <unhold/>, or <active/> after a <hold/> (how stanza.js resumes), is a resume.
        case 'unhold':
        case 'active':
          if (call.state !== 'confirmed' || (payload.name === 'active' && !entry.heldByClient)) return;
          entry.heldByClient = false;
          await call.resume().catch((error: unknown) => this.#fault(error));
          return;
        default: return; // mute, unmute: nothing to say in SIP
      }
    }
    if (payload.ns === TRANSFER_NS && payload.name === 'transfer') return this.#transfer(entry, payload, refuse, ack);
    if (payload.ns === NS.jingleDtmf && payload.name === 'dtmf') {
      // XEP-0181: one <dtmf code=.../> → SIP INFO application/dtmf-relay.
      const code = payload.attrs.code ?? '';
      if (call === undefined || call.state !== 'confirmed' || !/^[0-9A-D*#]$/i.test(code)) return refuse(BAD_REQUEST);
      ack();
      const duration = Number(payload.attrs.duration);
      await call.dtmf(code.toUpperCase(), Number.isInteger(duration) && duration > 0 ? duration : undefined).catch((error: unknown) => this.#fault(error));
      return;
    }
    return refuse(jingleError(FEATURE_NOT_IMPLEMENTED, 'unsupported-info'));
  }

  #terminateFromClient(entry: JingleCall, jingle: XmlElement): void {
    this.#forget(entry);
    const call = entry.call;
    if (call === undefined) return;
    // §10.6: an incoming call ended before acceptance is a final response; otherwise CANCEL or BYE.
    if (entry.direction === 'incoming' && !entry.sdpSent) {
      // TS 24.604 CD: <deflect to/> → 302 with the deflect-to Contact.
      const deflectTo = deflectTarget(jingle);
      if (deflectTo !== undefined) {
        call.deflect(deflectTo).catch((error: unknown) => this.#fault(error));
        return;
      }
      const rejection = sipRejectionForJingleReason(reasonOf(jingle));
      call.reject(rejection.status, rejection.reasonPhrase).catch((error: unknown) => this.#fault(error));
      return;
    }
    call.hangup().catch((error: unknown) => this.#fault(error));
  }

  // ---- from SIP -----------------------------------------------------------------------------------

  /** A terminating INVITE for this client. */
  incoming(call: UaCall, from: PartyIdentity): void {
    const offer = call.remoteOffer;
    if (this.#calls.size >= this.#options.maxCallsPerClient || offer === undefined) {
      // 486 for the client's bound; an offerless INVITE has no Jingle form (the initiator offers, XEP-0166 §6.2).
      call.reject(offer === undefined ? 488 : 486).catch((error: unknown) => this.#fault(error));
      return;
    }
    // TS 24.607 OIR: a restricted caller is anonymous@<domain>, never the withheld identity.
    const peer = from.anonymous === true ? anonymousJid(this.#link.domain) : jidOfParty(from.uri, this.#link.domain) ?? this.#link.domain;
    const sid = randomUUID();
    let initiate: XmlElement;
    try {
      initiate = sdpToJingle(offer, { role: 'initiator', action: 'session-initiate', sid, initiator: peer, responder: this.#link.fullJid }).jingle;
      if (from.anonymous === true) initiate = markRestricted(initiate);
      if (call.waiting === true) initiate = markWaiting(initiate); // TS 24.615 CW
      // TS 24.629 / RFC 3891: an INVITE with Replaces names the client's session it takes over (XEP-0251 §3).
      const replaced = call.replaces !== undefined ? [...this.#calls.values()].find((c) => c.call?.id === call.replaces) : undefined;
      if (replaced !== undefined) {
        replaced.replaced = true;
        initiate = withReplacedSession(initiate, replaced.sid, undefined);
      }
    } catch (error) {
      if (!(error instanceof JingleMappingError)) throw error;
      this.#link.log.info({ err: error }, 'xmpp-ws: incoming offer has no Jingle form, 488');
      call.reject(488).catch((fault: unknown) => this.#fault(fault));
      return;
    }
    const entry: JingleCall = { sid, direction: 'incoming', peer, call, trickle: [], sdpSent: false, pendingInitiate: undefined, ringingSent: false, ended: false, heldByClient: false };
    this.#calls.set(sid, entry);
    this.#wireCall(entry, call);
    if (this.#link.supportsJingleMessage) {
      // XEP-0353 §3.1: ring every resource with <propose/>; the Jingle session follows <proceed/>.
      entry.pendingInitiate = initiate;
      this.#link.send(jingleMessage(peer, this.#link.fullJid, 'propose', sid, proposedDescriptions(initiate)));
      this.#ringSip(entry);
      return;
    }
    void this.#sendInitiate(entry, initiate);
  }

  async #sendInitiate(entry: JingleCall, initiate: XmlElement): Promise<void> {
    const answer = await this.#link.request(jingleIq(entry.peer, this.#link.fullJid, initiate));
    if (entry.ended || entry.call === undefined) return;
    if (answer?.attrs.type !== 'result') {
      this.#forget(entry);
      entry.call.reject(480, 'Temporarily Unavailable').catch((error: unknown) => this.#fault(error));
    }
  }

  #wireCall(entry: JingleCall, call: UaCall): void {
    call.on('progress', ({ status }) => {
      // F-JRTP-3: 180 (or 183) → session-info <ringing/>, once.
      if (entry.direction !== 'outgoing' || entry.ringingSent || (status !== 180 && status !== 183)) return;
      entry.ringingSent = true;
      this.#toClient(entry, sessionInfo(entry.sid, 'ringing'));
    });
    call.on('progress', ({ diversion }) => {
      // TS 24.604 §4.5.2.6.1 CDIV notification (181 / History-Info) → session-info <diverted/>.
      if (entry.direction !== 'outgoing' || diversion === undefined) return;
      this.#toClient(entry, sessionInfoDiverted(entry.sid, diversion));
    });
    call.on('progress', ({ waiting, callCompletion }) => {
      if (entry.direction !== 'outgoing') return;
      // TS 24.615 §4.5.5.3.1: a 180 with Alert-Info call-waiting → session-info <waiting/>.
      if (waiting === true) this.#toClient(entry, sessionInfoWaiting(entry.sid));
      // TS 24.642 CCNR: a 180 offering completion of calls → session-info <call-completion mode='NR'/>.
      if (callCompletion !== undefined) {
        this.#completion.offered(entry.sid, entry.peer, callCompletion);
        this.#toClient(entry, xmlElementInfo(entry.sid, callCompletionOfferElement(callCompletion)));
      }
    });
    call.on('answered', ({ sdp, connected }) => {
      if (entry.direction !== 'outgoing') return;
      if (sdp === undefined) return this.#hangupBoth(entry, { reason: 'failed-application', text: 'answer without SDP' });
      try {
        // TS 24.608 TIP/TIR: the responder is the connected identity (the 200's P-Asserted-Identity);
        // a restricted one is anonymous@<domain> with <restricted/>, never the withheld identity.
        const restricted = connected?.anonymous === true;
        const connectedJid = connected !== undefined ? jidOfParty(connected.uri, this.#link.domain) : undefined;
        const inDomain = connectedJid !== undefined && mappedPeer(connectedJid, this.#link.domain) !== undefined;
        const responder = restricted ? anonymousJid(this.#link.domain) : inDomain ? connectedJid : entry.peer;
        const accept = sdpToJingle(sdp, { role: 'responder', action: 'session-accept', sid: entry.sid, initiator: this.#link.fullJid, responder }).jingle;
        this.#toClient(entry, restricted ? markRestricted(accept) : accept);
      } catch (error) {
        if (!(error instanceof JingleMappingError)) throw error;
        this.#hangupBoth(entry, { reason: 'incompatible-parameters', text: 'answer SDP has no Jingle form' });
      }
    });
    call.on('updated', ({ direction }) => {
      // The SIP party (un)held us: its offer's direction (TS 24.610 §4.5.2.1).
      this.#toClient(entry, sessionInfo(entry.sid, direction === 'sendonly' || direction === 'inactive' ? 'hold' : 'unhold'));
    });
    // Issue #14: DTMF from the far end (INFO application/dtmf-relay) → XEP-0181 <dtmf/> session-info.
    call.on('info', (info) => {
      const dtmf = entry.ended ? undefined : sessionInfoDtmf(entry.sid, info);
      if (dtmf !== undefined) this.#toClient(entry, dtmf);
    });
    // TS 24.629 transferee: the REFER is put to the client as XEP-0251 <transfer/>.
    call.on('referred', (transfer) => { void this.#referred(entry, transfer); });
    // RFC 3515 §2.4.5: the NOTIFY sipfrag of the client's own transfer.
    call.on('transferprogress', (info) => this.#toClient(entry, sessionInfoTransferProgress(entry.sid, info)));
    call.on('ended', (info) => this.#endedBySip(entry, info));
  }

  #endedBySip(entry: JingleCall, info: CallEndInfo): void {
    if (entry.ended) return;
    if (entry.replaced === true && info.cause === 'local') {
      // RFC 3891 §3: the UE ended the replaced dialog; the client's session ends as transferred.
      this.#forget(entry);
      this.#toClient(entry, sessionTerminateTransferred(entry.sid));
      return;
    }
    if (info.cause === 'local' || info.cause === 'connection') { this.#forget(entry); return; }
    if (entry.pendingInitiate !== undefined) {
      // XEP-0353 §3.3: the caller gave up before the client proceeded: retract the proposal.
      this.#forget(entry);
      this.#link.send(jingleMessage(entry.peer, this.#link.fullJid, 'retract', entry.sid));
      return;
    }
    const termination: JingleTermination = info.cause === 'remote'
      ? (entry.direction === 'incoming' && !entry.sdpSent ? { reason: 'cancel' } : { reason: 'success' })
      : jingleReasonForSipStatus(info.status ?? 500, info.reason);
    if (entry.direction === 'outgoing' && info.callCompletion !== undefined) {
      // TS 24.642 CCBS/CCNR: the failure offers completion of calls; the terminate says so.
      this.#completion.offered(entry.sid, entry.peer, info.callCompletion);
      this.#forget(entry);
      this.#toClient(entry, withChild(sessionTerminate(entry.sid, termination), callCompletionOfferElement(info.callCompletion)));
      return;
    }
    this.#endToClient(entry, termination);
  }

  // ---- helpers ------------------------------------------------------------------------------------

  #mapsToSdp(jingle: XmlElement, role: 'initiator' | 'responder', refuse: (spec: StanzaErrorSpec) => void): boolean {
    try {
      jingleToSdp(jingle, { role });
      return true;
    } catch (error) {
      if (!(error instanceof JingleMappingError)) throw error;
      refuse({ condition: 'bad-request', type: 'modify', text: error.message.slice(0, 200) });
      return false;
    }
  }

  /** The SDP of `jingle`, with trickled candidates when it carried none (waits trickleWaitMs for them). */
  async #sdpWithTrickle(entry: JingleCall, jingle: XmlElement, role: 'initiator' | 'responder'): Promise<string | undefined> {
    if (!hasCandidates(jingle) && this.#options.trickleWaitMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.#options.trickleWaitMs));
    }
    entry.sdpSent = true;
    const merged = withTrickledCandidates(jingle, entry.trickle);
    entry.trickle.length = 0;
    try {
      return jingleToSdp(merged, { role });
    } catch (error) {
      if (!(error instanceof JingleMappingError)) throw error;
      // A trickled candidate the description could not take: end the session cleanly.
      this.#endToClient(entry, { reason: 'failed-transport', text: 'trickled candidate not usable' });
      return undefined;
    }
  }

  #ringSip(entry: JingleCall): void {
    const call = entry.call;
    if (entry.direction !== 'incoming' || call === undefined || entry.ringingSent || call.state !== 'ringing') return;
    entry.ringingSent = true;
    call.ring().catch((error: unknown) => this.#fault(error));
  }

  #toClient(entry: JingleCall, jingle: XmlElement): void {
    void this.#link.request(jingleIq(entry.peer, this.#link.fullJid, jingle));
  }

  #endToClient(entry: JingleCall, termination: JingleTermination): void {
    this.#forget(entry);
    this.#toClient(entry, sessionTerminate(entry.sid, termination));
  }

  #hangupBoth(entry: JingleCall, termination: JingleTermination): void {
    entry.call?.hangup().catch((error: unknown) => this.#fault(error));
    this.#endToClient(entry, termination);
  }

  #forget(entry: JingleCall): void {
    entry.ended = true;
    this.#calls.delete(entry.sid);
  }

  #fault(error: unknown): void {
    this.#link.log.info({ err: error }, 'xmpp-ws: a SIP step of a call failed');
  }
}

/** A session-info carrying one extension element. */
function xmlElementInfo(sid: string, payload: XmlElement): XmlElement {
  return xmlElement('jingle', NS.jingle, { action: 'session-info', sid }, [payload]);
}
