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
import type { CallEndInfo, PartyIdentity, UaCall, VirtualUe } from '../../../core/contract/index.js';
import { jidOfParty, type MappedPeer } from '../address/peer-jid.js';
import type { ClientLink } from '../client-link.js';
import { jingleReasonForSipStatus, sipRejectionForJingleReason, type JingleTermination } from '../interworking/jingle-reason-sip.js';
import { jingleToSdp } from '../jingle/jingle-to-sdp.js';
import { JingleMappingError } from '../jingle/mapping-error.js';
import { sdpToJingle } from '../jingle/sdp-to-jingle.js';
import type { XmppWsOptions } from '../options.js';
import { BAD_REQUEST, FEATURE_NOT_IMPLEMENTED, iqResult, stanzaError, type StanzaErrorSpec } from '../stanza/stanza-builders.js';
import { childOf, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { jingleError, jingleIq, jingleMessage, proposedDescriptions, reasonOf, sessionInfo, sessionTerminate } from './jingle-elements.js';
import { anonymousJid, asksForPrivacy, markRestricted } from './mmtel-identity.js';
import { hasCandidates, withTrickledCandidates } from './trickle-buffer.js';
import { sessionInfoDiverted } from './diverted-element.js';
import { sessionInfoDtmf } from './dtmf-element.js';

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
}

/** XEP-0166 §7.2 (F-JNG-2): the defined actions. */
const JINGLE_ACTIONS: ReadonlySet<string> = new Set([
  'content-accept', 'content-add', 'content-modify', 'content-reject', 'content-remove', 'description-info', 'security-info',
  'session-accept', 'session-info', 'session-initiate', 'session-terminate', 'transport-accept', 'transport-info',
  'transport-reject', 'transport-replace',
]);

const ITEM_NOT_FOUND: StanzaErrorSpec = jingleError({ condition: 'item-not-found', type: 'cancel' }, 'unknown-session');

export class JingleCalls {
  readonly #link: ClientLink;
  readonly #ue: VirtualUe;
  readonly #options: XmppWsOptions;
  readonly #calls = new Map<string, JingleCall>();
  /** XEP-0353 proposals the client made toward a SIP user, answered with <proceed/>. */
  readonly #proposals = new Set<string>();

  constructor(link: ClientLink, ue: VirtualUe, options: XmppWsOptions) {
    this.#link = link;
    this.#ue = ue;
    this.#options = options;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** The stream ended: the core releases the SIP side (the UE is closed after this). */
  close(): void {
    this.#calls.clear();
    this.#proposals.clear();
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
    try {
      // TS 24.607 OIR on request: <privacy xmlns='urn:epcscf:mmtel:0'/> → Privacy: id.
      call = await this.#ue.call(peer.uri, asksForPrivacy(jingle) ? { sdp, privacy: 'id' } : { sdp });
    } catch (error) {
      const status = error instanceof EpcError && 'status' in error && typeof error.status === 'number' ? error.status : 500;
      this.#link.log.info({ err: error }, 'xmpp-ws: INVITE not sent');
      return this.#endToClient(entry, jingleReasonForSipStatus(status));
    }
    entry.call = call;
    if (entry.ended) { call.hangup().catch((error: unknown) => this.#fault(error)); return; }
    this.#wireCall(entry, call);
  }

  async #accept(entry: JingleCall, jingle: XmlElement, refuse: (spec: StanzaErrorSpec) => void, ack: () => void): Promise<void> {
    const call = entry.call;
    if (entry.direction !== 'incoming' || call === undefined || entry.sdpSent) return refuse(jingleError({ condition: 'unexpected-request', type: 'wait' }, 'out-of-order'));
    if (!this.#mapsToSdp(jingle, 'responder', refuse)) return;
    ack();
    const sdp = await this.#sdpWithTrickle(entry, jingle, 'responder');
    if (entry.ended || sdp === undefined) return;
    await call.answer(sdp).catch((error: unknown) => this.#fault(error));
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
    call.on('answered', ({ sdp }) => {
      if (entry.direction !== 'outgoing') return;
      if (sdp === undefined) return this.#hangupBoth(entry, { reason: 'failed-application', text: 'answer without SDP' });
      try {
        const accept = sdpToJingle(sdp, { role: 'responder', action: 'session-accept', sid: entry.sid, initiator: this.#link.fullJid, responder: entry.peer }).jingle;
        this.#toClient(entry, accept);
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
    // RFC 3515 §2.4.2: a transfer the client cannot be asked about is declined, never left unanswered.
    call.on('referred', (transfer) => { transfer.reject(603).catch((error: unknown) => this.#fault(error)); });
    call.on('ended', (info) => this.#endedBySip(entry, info));
  }

  #endedBySip(entry: JingleCall, info: CallEndInfo): void {
    if (entry.ended) return;
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
