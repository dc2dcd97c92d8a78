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
import { PC_CONFIG, WicError, type Identity, type W2Client, type W2Events } from '../w2-client.js';

const MEDIA = { audio: true, video: false };

export class JsSipClient implements W2Client {
  readonly protocol = 'sip-ws';
  readonly unsupported = {};
  private ua: JsSIP.UA | undefined;
  private session: RTCSession | undefined;
  private token: string | undefined;

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
    const session = this.requireUa().call(toUri(target, this.identity.domain), { mediaConstraints: MEDIA, pcConfig: PC_CONFIG, extraHeaders: this.bearer() });
    this.events.callState('calling');
    this.track(session);
  }

  async answer(): Promise<void> {
    this.requireSession().answer({ mediaConstraints: MEDIA, pcConfig: PC_CONFIG });
  }

  async reject(): Promise<void> {
    this.requireSession().terminate({ status_code: 603, reason_phrase: 'Decline' });
  }

  async hangup(): Promise<void> {
    const session = this.session;
    if (session !== undefined && !session.isEnded()) session.terminate();
  }

  hold(on: boolean): Promise<void> {
    const session = this.requireSession();
    return new Promise((resolve, reject) => {
      const started = on ? session.hold({}, resolve) : session.unhold({}, resolve);
      if (!started) reject(new WicError(on ? 'The call cannot be put on hold right now.' : 'The call cannot be resumed right now.'));
    });
  }

  async transfer(target: string): Promise<void> {
    // RFC 3515 REFER in the dialog (blind transfer, TS 24.629 ECT).
    const session = this.requireSession();
    session.refer(toUri(target, this.identity.domain), {
      extraHeaders: this.bearer(),
      eventHandlers: {
        // RFC 5589 §6: the transfer succeeded (NOTIFY 200): the transferor leaves the call.
        accepted: () => { if (!session.isEnded()) session.terminate(); },
        failed: () => this.events.error('The transfer failed: the other side could not reach the new party.'),
      },
    });
  }

  async dtmf(digits: string): Promise<void> {
    this.requireSession().sendDTMF(digits, { transportType: 'INFO' as DTMF_TRANSPORT });
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

  private onSession(event: RTCSessionEvent): void {
    if (event.originator !== 'remote') return;
    if (this.session !== undefined && !this.session.isEnded()) {
      event.session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
      return;
    }
    this.track(event.session);
    this.events.incoming(event.request.from.uri.toString());
  }

  private track(session: RTCSession): void {
    this.session = session;
    const announce = (): void => { if (session.connection) this.events.peerConnection(session.connection); };
    if (session.connection) announce();
    else session.on('peerconnection', announce);
    session.on('progress', () => { if (session.direction === 'outgoing') this.events.callState('ringing'); });
    session.on('confirmed', () => this.events.callState('established'));
    session.on('hold', (e) => { if (e.originator === 'remote') this.events.remoteHold(true); });
    session.on('unhold', (e) => { if (e.originator === 'remote') this.events.remoteHold(false); });
    // RFC 3515 / TS 24.629: the far end transfers us; the new call replaces this one on screen.
    session.on('refer', (e) => {
      const to = e.request.getHeader('Refer-To').replace(/^.*<([^>]+)>.*$/, '$1').replace(/\?.*$/, '');
      e.accept((next: RTCSession) => {
        this.track(next);
        this.events.transferred(to);
      }, { mediaConstraints: MEDIA, pcConfig: PC_CONFIG, extraHeaders: this.bearer() });
    });
    const end = (e: EndEvent): void => {
      if (this.session !== session) return; // the call we were transferred away from
      this.session = undefined;
      this.events.callState('ended', describeEnd(e));
    };
    session.on('ended', end);
    session.on('failed', end);
  }

  private bearer(): string[] {
    return this.token !== undefined ? [`Authorization: Bearer ${this.token}`] : [];
  }

  private requireUa(): JsSIP.UA {
    if (this.ua === undefined) throw new WicError('Not connected to the eP-CSCF.');
    return this.ua;
  }

  private requireSession(): RTCSession {
    if (this.session === undefined || this.session.isEnded()) throw new WicError('There is no call.');
    return this.session;
  }
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
