/**
 * SIP over WebSocket adapter (RFC 7118, plugins/sip-ws) with JsSIP. Digest mode answers the IMS
 * challenge with the password (scenario 1). Web mode (TS 24.371 annex A.3.2) sends the WWSF's
 * token as `Authorization: Bearer <jwt>` on REGISTER and on initial requests (INVITE, MESSAGE,
 * REFER): the eP-CSCF validates and strips it (R-REG-3, R-REG-5).
 */
import * as JsSIP from 'jssip';
import type { IncomingMessageEvent, OutgoingMessageEvent, RTCSessionEvent, UnRegisteredEvent } from 'jssip/lib/UA.js';
import type { DTMF_TRANSPORT } from 'jssip/lib/Constants.js';
import type { EndEvent, RTCSession } from 'jssip/lib/RTCSession.js';
import { describeSipStatus } from '../sip-status-words.js';
import { toUri } from '../target.js';
import type { IncomingRequest, IncomingResponse } from 'jssip/lib/SIPMessage.js';
import { historyInfoDiversions, parseMessageSummary } from '../sip-service-headers.js';
import { isRestricted, PC_CONFIG, WicError, type CallId, type Identity, type Party, type UtAccess, type W2Client, type W2Events } from '../w2-client.js';
import { utOverRest } from './ut-rest.js';

const MEDIA = { audio: true, video: false };

export class JsSipClient implements W2Client {
  readonly protocol = 'sip-ws';
  readonly unsupported = {};
  private ua: JsSIP.UA | undefined;
  /** Every live call, by the id the UI knows it by (several at once: CW, consultation before ECT). */
  private readonly sessions = new Map<CallId, RTCSession>();
  private readonly ids = new WeakMap<RTCSession, CallId>();
  /** Sessions that arrive to replace one of ours (RFC 3891 Replaces: the far end of a consultative transfer). */
  private readonly replacing = new WeakMap<RTCSession, CallId>();
  private nextId = 1;
  private token: string | undefined;
  private utAccess: UtAccess | undefined;

  /** TS 24.623 over epcscf's Ut REST endpoint, with the web token (web login only: a digest WIC has no token to show). */
  get ut(): UtAccess | undefined {
    if (this.identity.token === undefined) return undefined;
    this.utAccess ??= utOverRest(this.url, this.identity.impu, () => this.token);
    return this.utAccess;
  }

  constructor(private readonly url: string, private readonly identity: Identity, private readonly events: W2Events) {
    this.token = identity.token;
  }

  connect(): Promise<void> {
    this.events.registration('registering');
    const ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(this.url)],
      uri: this.identity.impu,
      authorization_user: this.identity.impi,
      ...(this.identity.password !== undefined ? { password: this.identity.password } : {}),
      ...(this.identity.displayName !== undefined ? { display_name: this.identity.displayName } : {}),
      register: true, session_timers: false, user_agent: 'epcscf-wic (JsSIP)',
    });
    this.ua = ua;
    ua.registrator().setExtraHeaders(this.bearer());
    ua.on('newRTCSession', (event: RTCSessionEvent) => this.onSession(event));
    ua.on('newMessage', (event: IncomingMessageEvent | OutgoingMessageEvent) => {
      if (event.originator === 'remote') this.events.message(event.request.from.uri.toString(), event.request.body ?? '');
    });
    // TS 24.606 MWI: an unsolicited NOTIFY (Event: message-summary) from the voicemail server.
    ua.on('sipEvent', (event: { request: IncomingRequest }) => {
      if (!/message-summary/i.test(event.request.getHeader('Event') ?? '')) return;
      const summary = parseMessageSummary(event.request.body ?? '');
      if (summary !== undefined) this.events.messageSummary(summary);
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      ua.on('registered', () => { this.events.registration('registered'); if (!settled) { settled = true; resolve(); } });
      ua.on('unregistered', () => this.events.registration('offline'));
      ua.on('registrationFailed', (event: UnRegisteredEvent) => {
        const text = `Registration refused: ${describeResponse(event, this.token !== undefined)}.`;
        this.events.registration('failed', text);
        if (!settled) { settled = true; ua.stop(); reject(new WicError(text)); }
      });
      ua.on('disconnected', () => {
        if (!settled) { settled = true; ua.stop(); reject(new WicError(`Could not connect to ${this.url}: the eP-CSCF is not reachable.`)); }
        else this.events.registration('offline', 'The connection to the eP-CSCF was lost; reconnecting…');
      });
      ua.start();
    });
  }

  /** A fresh token from the WWSF: the next REGISTER refresh and initial requests carry it. */
  updateToken(token: string): void {
    this.token = token;
    this.ua?.registrator().setExtraHeaders(this.bearer());
  }

  async call(target: string): Promise<void> {
    const to = toUri(target, this.identity.domain);
    const session = this.requireUa().call(to, { mediaConstraints: MEDIA, pcConfig: PC_CONFIG, extraHeaders: this.bearer() });
    const callId = this.track(session);
    this.events.outgoing(callId, to);
    this.events.callState(callId, 'calling');
  }

  async answer(callId: CallId): Promise<void> {
    this.requireSession(callId).answer({ mediaConstraints: MEDIA, pcConfig: PC_CONFIG });
  }

  async reject(callId: CallId, busy = false): Promise<void> {
    // TS 24.615 §4.5.4: a waiting call the user refuses is rejected 486 Busy Here.
    this.requireSession(callId).terminate(busy ? { status_code: 486, reason_phrase: 'Busy Here' } : { status_code: 603, reason_phrase: 'Decline' });
  }

  async deflect(callId: CallId, target: string): Promise<void> {
    // TS 24.604 CD: the UE answers the ringing INVITE 302 Moved Temporarily, the deflect-to URI its only Contact.
    const to = toUri(target, this.identity.domain);
    this.requireSession(callId).terminate({ status_code: 302, reason_phrase: 'Moved Temporarily', extraHeaders: [`Contact: <${to}>`] });
  }

  async hangup(callId: CallId): Promise<void> {
    const session = this.sessions.get(callId);
    if (session !== undefined && !session.isEnded()) session.terminate();
  }

  hold(callId: CallId, on: boolean): Promise<void> {
    const session = this.requireSession(callId);
    return new Promise((resolve, reject) => {
      const started = on ? session.hold({}, resolve) : session.unhold({}, resolve);
      if (!started) reject(new WicError(on ? 'The call cannot be put on hold right now.' : 'The call cannot be resumed right now.'));
    });
  }

  async transfer(callId: CallId, target: string): Promise<void> {
    // RFC 3515 REFER in the dialog (blind transfer, TS 24.629 ECT).
    this.refer(this.requireSession(callId), toUri(target, this.identity.domain));
  }

  async consultativeTransfer(callId: CallId, consultation: CallId): Promise<void> {
    // TS 24.629 §4.5.2.4: REFER to the held party, Refer-To the consulted party with Replaces (RFC 3891) of our dialog with them.
    const other = this.requireSession(consultation);
    this.refer(this.requireSession(callId), other.remote_identity.uri.toString(), other);
  }

  async dtmf(callId: CallId, digits: string): Promise<void> {
    this.requireSession(callId).sendDTMF(digits, { transportType: 'INFO' as DTMF_TRANSPORT });
  }

  sendMessage(to: string, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.requireUa().sendMessage(toUri(to, this.identity.domain), text, {
        extraHeaders: this.bearer(),
        eventHandlers: {
          succeeded: () => resolve(),
          failed: (event) => reject(new WicError(`The message was not delivered: ${event.response ? describeSipStatus(event.response.status_code, event.response.reason_phrase, 'message') : event.cause}.`)),
        },
      });
    });
  }

  close(): Promise<void> {
    const ua = this.ua;
    if (ua === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      ua.on('disconnected', () => resolve());
      ua.stop();
      setTimeout(resolve, 2000);
    });
  }

  private refer(session: RTCSession, target: string, replaces?: RTCSession): void {
    session.refer(target, {
      extraHeaders: this.bearer(),
      ...(replaces !== undefined ? { replaces } : {}),
      eventHandlers: {
        // RFC 5589 §6: the transfer succeeded (NOTIFY 200): the transferor leaves the call(s).
        accepted: () => {
          if (!session.isEnded()) session.terminate();
          if (replaces !== undefined && !replaces.isEnded()) replaces.terminate();
        },
        failed: () => this.events.error('The transfer failed: the other side could not reach the new party.'),
      },
    });
  }

  private onSession(event: RTCSessionEvent): void {
    if (event.originator !== 'remote') return;
    const session = event.session;
    const replaced = this.replacing.get(session);
    const callId = this.track(session);
    if (replaced !== undefined) {
      // RFC 3891: the transferee's INVITE with Replaces takes the consulted call's place, answered at once.
      this.events.transferred(replaced, callId, session.remote_identity.uri.toString());
      session.answer({ mediaConstraints: MEDIA, pcConfig: PC_CONFIG });
      return;
    }
    const waiting = Array.from(this.sessions.values()).some((s) => s !== session && !s.isEnded());
    this.events.incoming(callId, partyOf(session.remote_identity.uri.toString(), session.remote_identity.display_name), waiting);
  }

  private track(session: RTCSession): CallId {
    const callId = `sip-${this.nextId++}`;
    this.sessions.set(callId, session);
    this.ids.set(session, callId);
    const announce = (): void => { if (session.connection) this.events.peerConnection(callId, session.connection); };
    if (session.connection) announce();
    else session.on('peerconnection', announce);
    session.on('progress', (e: { response?: IncomingResponse }) => {
      if (session.direction !== 'outgoing') return;
      this.events.callState(callId, 'ringing');
      const diversions = e.response !== undefined ? historyInfoDiversions(e.response.getHeaders('History-Info')) : [];
      if (diversions.length > 0) this.events.diverted(callId, diversions);
    });
    session.on('accepted', (e: { response?: IncomingResponse }) => {
      // TS 24.608 TIP: the connected identity is the 2xx's P-Asserted-Identity.
      const pai = e.response?.getHeader('P-Asserted-Identity');
      if (session.direction === 'outgoing' && pai) this.events.connected(callId, partyOf(pai.replace(/^.*<([^>]+)>.*$/, '$1')));
    });
    session.on('confirmed', () => this.events.callState(callId, 'established'));
    session.on('hold', (e) => { if (e.originator === 'remote') this.events.remoteHold(callId, true); });
    session.on('unhold', (e) => { if (e.originator === 'remote') this.events.remoteHold(callId, false); });
    session.on('newDTMF', (e: { originator: string; dtmf: { tone: string } }) => {
      if (e.originator === 'remote') this.events.dtmfReceived(callId, e.dtmf.tone);
    });
    // RFC 3515 / TS 24.629: the far end transfers us; the new call replaces this one on screen.
    session.on('refer', (e) => {
      const to = e.request.getHeader('Refer-To').replace(/^.*<([^>]+)>.*$/, '$1').replace(/\?.*$/, '');
      e.accept((next: RTCSession) => {
        const nextId = this.track(next);
        this.events.transferred(callId, nextId, to);
        this.events.callState(nextId, 'calling');
      }, { mediaConstraints: MEDIA, pcConfig: PC_CONFIG, extraHeaders: this.bearer() });
    });
    // RFC 3891: an INVITE with Replaces for this dialog (we were consulted in a transfer).
    session.on('replaces', (e) => {
      e.accept((next: RTCSession) => { this.replacing.set(next, callId); });
    });
    const end = (e: EndEvent): void => {
      if (this.sessions.get(callId) !== session) return;
      this.sessions.delete(callId);
      this.events.callState(callId, 'ended', describeEnd(e));
    };
    session.on('ended', end);
    session.on('failed', end);
    return callId;
  }

  private bearer(): string[] {
    return this.token !== undefined ? [`Authorization: Bearer ${this.token}`] : [];
  }

  private requireUa(): JsSIP.UA {
    if (this.ua === undefined) throw new WicError('Not connected to the eP-CSCF.');
    return this.ua;
  }

  private requireSession(callId: CallId): RTCSession {
    const session = this.sessions.get(callId);
    if (session === undefined || session.isEnded()) throw new WicError('That call is over.');
    return session;
  }
}

function partyOf(uri: string, displayName?: string): Party {
  return { uri, restricted: isRestricted(uri), ...(displayName ? { displayName } : {}) };
}

function describeResponse(event: UnRegisteredEvent, withToken: boolean): string {
  const response = event.response as { status_code?: number; reason_phrase?: string } | undefined | null;
  if (response?.status_code !== undefined) return describeSipStatus(response.status_code, response.reason_phrase, withToken ? 'register-token' : 'register');
  return String(event.cause ?? 'no answer');
}

function describeEnd(event: EndEvent): string {
  if (event.cause === 'Rejected' && event.originator === 'local') return 'you declined';
  if (event.cause === 'Terminated' || event.cause === 'Bye') return event.originator === 'local' ? 'you hung up' : 'the other side hung up';
  const response = event.message as { status_code?: number; reason_phrase?: string } | undefined | null;
  if (response?.status_code !== undefined && response.status_code >= 300) return describeSipStatus(response.status_code, response.reason_phrase, 'call');
  return event.cause;
}
