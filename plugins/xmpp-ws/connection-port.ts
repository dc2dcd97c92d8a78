/**
 * The contract side of one XMPP connection, as one object: the W2Session hooks the core calls
 * (forwarded to the connection's XmppWsSession, which an XEP-0198 resumption swaps), the core's
 * flow calls (SessionFlows) and the session's dependencies (XmppWsDeps). One object per
 * connection instead of a closure per hook keeps an idle session small (bench/xmpp memory).
 */
import type { Logger } from 'pino';
import type { RegistrationSnapshot, SipRequest, SipResponse, UaIdentity, UtRequest, UtResponse, VirtualUe, W2Connection, W2Frame, W2Host, W2Session } from '../../core/contract/index.js';
import { derivedConferenceFactoryUri, EpcError } from '../../core/contract/index.js';
import type { XmppWsOptions } from './options.js';
import { XmppWsSession, type SessionFlows, type XmppWsDeps } from './session.js';
import type { ResumableStreams } from './sm/resumable-streams.js';
import type { FrameParser } from './xml/frame-parser.js';

/** What every connection of one plugin load shares. */
export interface PluginInstanceState {
  readonly host: W2Host;
  readonly options: XmppWsOptions;
  readonly streams: ResumableStreams<XmppWsSession>;
  readonly parser: FrameParser;
  /** SASL mechanisms offered (OAUTHBEARER only when the core takes web tokens). */
  readonly saslMechanisms: readonly string[];
}

export class ConnectionPort implements W2Session, SessionFlows, XmppWsDeps {
  readonly #shared: PluginInstanceState;
  readonly #conn: W2Connection;
  /** The connection's session; a resumption hands the connection to the detached one. */
  #session: XmppWsSession;

  constructor(shared: PluginInstanceState, conn: W2Connection) {
    this.#shared = shared;
    this.#conn = conn;
    this.#session = new XmppWsSession(conn, this);
  }

  // ---- XmppWsDeps ----------------------------------------------------------------------------------

  get options(): XmppWsOptions { return this.#shared.options; }
  get log(): Logger { return this.#shared.host.log; }
  get streams(): ResumableStreams<XmppWsSession> { return this.#shared.streams; }
  get parser(): FrameParser { return this.#shared.parser; }
  get saslMechanisms(): readonly string[] { return this.#shared.saslMechanisms; }
  get flows(): SessionFlows { return this; }
  get conferenceFactoryUri(): string { return this.#shared.host.mmtel?.conferenceFactoryUri ?? derivedConferenceFactoryUri(this.#shared.options.domain); }
  now(): number { return Date.now(); }

  createUe(identity: UaIdentity, adopt?: RegistrationSnapshot): VirtualUe {
    return this.#shared.host.ua.create(this.#conn, { identity, ...(adopt !== undefined ? { adopt } : {}) });
  }

  /** Ut (TS 24.623) as this connection's registered user (host.ut checks the identity). */
  utRequest(request: UtRequest): Promise<UtResponse> {
    const ut = this.#shared.host.ut;
    if (ut === undefined) return Promise.reject(new EpcError('EPC_ERR_UT_UNAVAILABLE', 'Ut is not configured on this eP-CSCF'));
    return ut.request(this.#conn.id, request);
  }

  handOverTo(session: XmppWsSession): void {
    this.#session = session;
  }

  reportFlood(): void {
    this.#shared.host.observer.emit('refused', { reason: 'flood', remoteAddress: this.#conn.remote.address, connectionId: this.#conn.id });
  }

  // ---- SessionFlows (the core keeps the RFC 5626 flow across a drop) ----------------------------------

  keep(connectionId: string, graceMs: number): void {
    this.#shared.host.sip.keepFlow(connectionId, graceMs);
  }

  adopt(previousConnectionId: string): Promise<void> {
    return this.#shared.host.sip.adoptFlow(previousConnectionId, this.#conn.id);
  }

  release(connectionId: string): Promise<void> {
    return this.#shared.host.sip.releaseFlow(connectionId);
  }

  /** Issue #15: present only where the core re-points registered flows (host.sip.adoptRegisteredFlow). */
  get adoptRegistered(): ((contactUri: string, expiresAt?: number) => Promise<void>) | undefined {
    const sip = this.#shared.host.sip;
    const adopt = sip.adoptRegisteredFlow;
    return adopt === undefined ? undefined : (contactUri: string, expiresAt?: number) => adopt.call(sip, this.#conn.id, contactUri, expiresAt);
  }

  // ---- W2Session ------------------------------------------------------------------------------------

  onFrame(frame: W2Frame): void | Promise<void> {
    return this.#session.onFrame(frame);
  }

  onClose(): Promise<void> {
    return this.#session.onClose();
  }

  onSipRequest(request: SipRequest): void {
    this.#session.onSipMessage(request);
  }

  onSipResponse(response: SipResponse): void {
    this.#session.onSipMessage(response);
  }

  describe(): Record<string, unknown> {
    return this.#session.describe();
  }

}
