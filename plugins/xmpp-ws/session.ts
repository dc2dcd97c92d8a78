/**
 * One XMPP client over WebSocket (RFC 7395) and its virtual Gm UE (core/ua). The session owns the
 * stream (open/close framing, stream errors, SASL, restart, bind), bounds the client (FloodGuard,
 * parser limits) and routes stanzas: server IQs here, chat to im/chat-bridge.ts, Jingle and
 * XEP-0353 to calls/jingle-calls.ts. It knows the plugin contract only through `XmppWsDeps`
 * and the small `XmppConnection` view, so a contract change touches index.ts alone.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { EpcError } from '../../core/contract/index.js';
import { derivedConferenceFactoryUri } from '../../core/contract/index.js';
import { FloodGuard } from '../../core/contract/index.js';
import type { SipRequest, SipResponse } from '../../core/contract/index.js';
import type { RegistrationInfo, RegistrationSnapshot, UaIdentity, UtRequest, UtResponse, VirtualUe } from '../../core/contract/index.js';
import { formatJid, parseJid, type Jid } from './address/jid.js';
import { mappedPeer } from './address/peer-jid.js';
import { JingleCalls } from './calls/jingle-calls.js';
import { MMTEL_NS } from './calls/mmtel-identity.js';
import { MwiBridge } from './mmtel/mwi.js';
import { answerUtIq } from './mmtel/ut.js';
import { ConferenceBridge } from './mmtel/conference.js';
import type { ClientLink } from './client-link.js';
import { ChatBridge } from './im/chat-bridge.js';
import type { XmppWsOptions } from './options.js';
import { FEATURE_NOT_IMPLEMENTED, SERVICE_UNAVAILABLE, iqResult, stanza, stanzaError } from './stanza/stanza-builders.js';
import { discoInfo, emptyRoster, iqPayload } from './stanza/server-features.js';
import { postAuthFeatures, preAuthFeatures, SASL_MECHANISMS } from './stream/features.js';
import { loginSecret, readSaslAuth, ueIdentity, type SaslLogin } from './stream/sasl-login.js';
import { childOf, xmlElement, type XmlElement } from './xml/element.js';
import { FrameParser } from './xml/frame-parser.js';
import { closeFrame, openFrame, streamErrorFrames } from './xml/framing.js';
import { NS } from './xml/namespaces.js';
import { checkClientOpen } from './xml/open-header.js';
import { verifierOf, type ResumableStreams, type StreamRecord } from './sm/resumable-streams.js';
import { isStanza, parseH, StreamManagement } from './sm/stream-management.js';
import { serializeElement } from './xml/serialize.js';
import type { StreamErrorCondition } from './xml/stream-error.js';

/** The connection as the session uses it (a subset of the core's W2Connection). */
export interface XmppConnection {
  readonly id: string;
  readonly remote: { readonly address: string; readonly port: number };
  /** wss:// (TLS); a redirect never sends such a client to a plain ws:// endpoint (RFC 7395 §3.6.1). */
  readonly secure?: boolean;
  send(frame: string): Promise<void>;
  close(code?: number, reason?: string): void;
}

/**
 * Builds the connection's UE, already bound to this connection's SIP seam; `adopt`: the UE
 * carries that registration on (issue #15, VirtualUeOptions.adopt) instead of registering.
 */
export type XmppUeFactory = (identity: UaIdentity, adopt?: RegistrationSnapshot) => VirtualUe;

/**
 * The core's RFC 5626 flow of this connection kept across a drop (host.sip.keepFlow /
 * adoptFlow / releaseFlow): registration, dialogs and media outlive the WebSocket.
 */
export interface SessionFlows {
  keep(connectionId: string, graceMs: number): void;
  /** This connection takes over the kept flow of `previousConnectionId`. */
  adopt(previousConnectionId: string): Promise<void>;
  release(connectionId: string): Promise<void>;
  /**
   * Issue #15 (host.sip.adoptRegisteredFlow, offered where the core shares flows between nodes):
   * this connection takes over the flow through which `contactUri` is registered, whichever
   * node made it. Absent: a stream resumed from another node's record registers again.
   */
  readonly adoptRegistered?: ((contactUri: string, expiresAt?: number) => Promise<void>) | undefined;
}

/** Everything the session needs from outside (the port to contract v2 changes only who fills it). */
export interface XmppWsDeps {
  readonly createUe: XmppUeFactory;
  readonly log: Logger;
  /** Resolved options: `domain` is never empty here. */
  readonly options: XmppWsOptions;
  readonly now: () => number;
  /** A guard cut the client off (counted in epcscf_w2_refused_total{reason="flood"}). */
  readonly reportFlood: () => void;
  /** CONF (TS 24.605 §4.2.1): config mmtel.conferenceFactoryUri; absent: sip:mmtel@conf-factory.<domain>. */
  readonly conferenceFactoryUri?: string;
  /** XEP-0198 resumption (absent: streams are counted but never resumable). */
  readonly flows?: SessionFlows;
  readonly streams?: ResumableStreams<XmppWsSession>;
  /**
   * The plugin instance's parser, shared by all its sessions: parsing is synchronous and one
   * message is one whole document (RFC 7395 §3.3.3), so no state is shared between messages,
   * and an idle session holds no parser (saxes keeps ~5 KiB per instance). Absent: the
   * session makes its own from the options' limits.
   */
  readonly parser?: FrameParser;
  /** From now on this connection's frames, SIP and close go to `session` (a resumed stream). */
  readonly handOverTo?: (session: XmppWsSession) => void;
  /** SASL mechanisms offered, in preference order; default PLAIN only (OAUTHBEARER when the core takes web tokens). */
  readonly saslMechanisms?: readonly string[];
  /** Ut (TS 24.623) for this connection's registered user (host.ut); absent: Ut IQs get service-unavailable. */
  readonly utRequest?: (request: UtRequest) => Promise<UtResponse>;
}

/** The core keeps the flow a little longer than the plugin's grace, so the de-registration leaves first. */
const KEEP_MARGIN_MS = 5_000;
/** Unacknowledged stanzas a detached stream's record carries for a resumption on another node (the newest ones). */
const RECORD_MAX_QUEUE_BYTES = 128 * 1024;
/**
 * Issue #15: a live stream's record lasts as long as its registration (a node that dies leaves
 * it resumable until the binding it would adopt lapses), within these bounds.
 */
const LIVE_RECORD_MIN_TTL_MS = 30_000;
const LIVE_RECORD_MAX_TTL_MS = 24 * 3600 * 1000;

/** RFC 6455 §7.4.1. */
const CLOSE_NORMAL = 1000;
const CLOSE_POLICY_VIOLATION = 1008;
/** How long onClose waits for the de-registering REGISTER to leave (never for its answer). */
const DEREGISTER_HANDOFF_MS = 200;
/** How long the gateway waits for the client's answer to an IQ it sent (disco, Jingle). */
const CLIENT_IQ_TIMEOUT_MS = 10_000;

/** `detached`: the WebSocket dropped with XEP-0198 resumption enabled; the UE and its calls live on. */
type StreamState = 'initial' | 'sasl' | 'authenticating' | 'restart' | 'bind' | 'ready' | 'detached' | 'closed';

export class XmppWsSession implements ClientLink {
  readonly domain: string;
  /** The connection's child logger, made on first use (an idle session logs nothing). */
  #log: Logger | undefined;
  #conn: XmppConnection;
  #deps: XmppWsDeps;
  readonly #parser: FrameParser;
  readonly #flood: FloodGuard;
  readonly #pendingIqs = new Map<string, { resolve: (answer: XmlElement | undefined) => void; timer: NodeJS.Timeout }>();
  #state: StreamState = 'initial';
  #authAttempts = 0;
  #user: Jid | undefined;
  #fullJid = '';
  #ue: VirtualUe | undefined;
  #mwi: MwiBridge | undefined;
  /** CONF (TS 24.605), mmtel/conference.ts. */
  #conference: ConferenceBridge | undefined;
  #mwiUe: VirtualUe | undefined;
  #chat: ChatBridge | undefined;
  #calls: JingleCalls | undefined;
  #supportsJingleMessage = false;
  #presenceSent = false;
  /** The SASL login (PLAIN password or OAUTHBEARER token) and its secret's digest (a resumption is checked against it). */
  #login: SaslLogin | undefined;
  #secretDigest: Buffer | undefined;
  /** XEP-0198 state once <enable/> was answered; `#smId` when the stream is resumable. */
  #sm: StreamManagement | undefined;
  #smId: string | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  /** Every connection this stream lived on (the first one is the UE's SIP seam). */
  readonly #connectionIds: string[] = [];

  constructor(conn: XmppConnection, deps: XmppWsDeps) {
    this.#conn = conn;
    this.#deps = deps;
    this.#connectionIds.push(conn.id);
    this.domain = deps.options.domain;
    this.#parser = deps.parser ?? frameParserFor(deps.options);
    this.#flood = new FloodGuard({ ratePerSecond: deps.options.floodRatePerSecond, burst: deps.options.floodBurst }, deps.now);
  }

  // ---- ClientLink ----------------------------------------------------------------------------------

  get log(): Logger {
    return this.#log ??= this.#deps.log.child({ connectionId: this.#conn.id });
  }

  get fullJid(): string {
    return this.#fullJid;
  }

  get bareJid(): string {
    return this.#user === undefined ? '' : formatJid(this.#user);
  }

  get supportsJingleMessage(): boolean {
    return this.#supportsJingleMessage;
  }

  send(element: XmlElement): void {
    const text = serializeElement(element);
    // XEP-0198 §4: every stanza counts and waits in the queue until the client acknowledges it.
    if (this.#sm !== undefined && isStanza(element) && !this.#sm.sent(text)) {
      if (this.#state === 'detached') {
        this.log.info('xmpp-ws: unacknowledged queue full while detached, ending the session');
        void this.#expire();
        return;
      }
      return this.#streamError('policy-violation', 'too many unacknowledged stanzas', CLOSE_POLICY_VIOLATION);
    }
    this.#sendText(text);
  }

  /**
   * A resuming client's credential, compared in constant time with this stream's: the same PLAIN
   * password, or the same web token while it has not expired (the P-CSCF validated that very
   * token when this stream registered; a new token registers anew, R-REG-4).
   */
  credentialMatches(login: SaslLogin | undefined): boolean {
    if (login === undefined || this.#tokenExpired(login)) return false;
    return this.matchesSecret(sha256(loginSecret(login)));
  }

  /** ResumableStream: this stream's login had the secret of `secretDigest`. */
  matchesSecret(secretDigest: Buffer): boolean {
    const own = this.#secretDigest;
    return own !== undefined && own.length === secretDigest.length && timingSafeEqual(own, secretDigest);
  }

  /** A web token past its exp resumes nothing (a new token registers anew, R-REG-4). */
  #tokenExpired(login: SaslLogin): boolean {
    return login.mechanism === 'OAUTHBEARER' && (login.expiresAtMs === undefined || login.expiresAtMs <= this.#deps.now());
  }

  request(iq: XmlElement): Promise<XmlElement | undefined> {
    const id = iq.attrs.id;
    if (this.#state === 'closed' || id === undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#pendingIqs.delete(id); resolve(undefined); }, CLIENT_IQ_TIMEOUT_MS);
      timer.unref(); // waiting for a client's answer never keeps the process alive by itself
      this.#pendingIqs.set(id, { resolve, timer });
      this.send(iq);
    });
  }

  // ---- W2 hooks (called by index.ts) ----------------------------------------------------------------

  onFrame(frame: string | Uint8Array): void | Promise<void> {
    if (this.#state === 'closed') return;
    // RFC 7395 §3.2 (R-XWS-2): XMPP travels in text frames only.
    if (typeof frame !== 'string') return this.#streamError('unsupported-encoding', 'binary frame');
    if (!this.#flood.take()) {
      this.log.warn({ remote: this.#conn.remote }, 'xmpp-ws: flood, closing the stream');
      this.#deps.reportFlood();
      return this.#streamError('policy-violation', 'too many stanzas', CLOSE_POLICY_VIOLATION);
    }
    const parsed = this.#parser.parse(frame);
    if (!parsed.ok) {
      this.log.info({ condition: parsed.error.condition, detail: parsed.error.detail }, 'xmpp-ws: stream error');
      return this.#streamError(parsed.error.condition, undefined, parsed.error.condition === 'policy-violation' ? CLOSE_POLICY_VIOLATION : CLOSE_NORMAL);
    }
    const { frame: xmpp } = parsed;
    if (xmpp.kind === 'close') return this.#closeStream();
    if (xmpp.kind === 'open') return this.#onOpen(xmpp.element);
    if (xmpp.element.ns === NS.sm && (this.#state === 'ready' || this.#state === 'bind')) return this.#onSmNonza(xmpp.element);
    switch (this.#state) {
      case 'sasl': return this.#onSasl(xmpp.element);
      case 'ready':
        if (isStanza(xmpp.element)) this.#sm?.received();
        // Stanzas run concurrently: a MESSAGE waiting for its SIP answer holds up nothing.
        void this.#onStanza(xmpp.element).catch((error: unknown) => this.log.error({ err: error }, 'xmpp-ws: stanza handling failed'));
        return;
      case 'bind': return this.#onBind(xmpp.element);
      default:
        // RFC 6120 §4.9.3.12: no stanza before the stream is authenticated and bound.
        return this.#streamError('not-authorized', 'stanza before authentication');
    }
  }

  onSipMessage(message: SipRequest | SipResponse): void {
    this.#ue?.receive(message);
  }

  async onClose(): Promise<void> {
    if (this.#resumable()) return this.#detach();
    await this.#end();
  }

  /** The stream is over for good: calls and registration end with it (the core BYEs the dialogs). */
  async #end(): Promise<void> {
    const wasOpen = this.#state !== 'closed';
    this.#state = 'closed';
    clearTimeout(this.#graceTimer);
    const smId = this.#smId;
    this.#smId = undefined;
    // Issue #15: another node that resumed this stream carries its registration on (same
    // Call-ID and Contact): this node then lets its UE go without de-registering.
    const moved = smId === undefined || this.#deps.streams === undefined ? false
      : (await this.#deps.streams.revoke(smId).catch((error: unknown) => {
        this.log.debug({ err: error }, 'xmpp-ws: stream record left to expire');
        return 'revoked' as const;
      })) === 'moved';
    for (const [id, pending] of this.#pendingIqs) { clearTimeout(pending.timer); pending.resolve(undefined); this.#pendingIqs.delete(id); }
    this.#calls?.close();
    const ue = this.#ue;
    this.#ue = undefined;
    if (ue === undefined) return;
    // R-REG-25: a web-token (trusted-node) registration is de-registered on Mw by the P-CSCF
    // itself when the flow ends; the plugin sends no second REGISTER Expires: 0.
    if (moved) this.log.info('xmpp-ws: the stream was resumed on another node, its registration is left to it');
    if (!moved && ue.registration.state === 'registered' && this.#login?.mechanism !== 'OAUTHBEARER') {
      // R-REG-24: a digest binding goes with the stream.
      const gone = ue.unregister().then(() => undefined, () => undefined);
      await Promise.race([gone, new Promise<void>((resolve) => setTimeout(resolve, DEREGISTER_HANDOFF_MS).unref())]);
    }
    ue.removeAllListeners();
    ue.close();
    // The plugin host forgets the kept connection ids; the core releases a kept flow (BYE toward IMS).
    const flows = this.#deps.flows;
    if (flows !== undefined) await Promise.all(this.#connectionIds.map((id) => flows.release(id).catch(() => undefined)));
    this.log.debug({ wasOpen }, 'xmpp-ws: session closed');
  }

  describe(): Record<string, unknown> {
    return {
      connectionId: this.#conn.id,
      state: this.#state,
      ...(this.#fullJid ? { jid: this.#fullJid } : {}),
      registration: this.#ue?.registration.state ?? 'unregistered',
      calls: this.#calls?.size ?? 0,
      ...(this.#sm !== undefined ? { streamManagement: { resumable: this.#smId !== undefined, unacknowledged: this.#sm.unacknowledged } } : {}),
    };
  }

  // ---- stream negotiation ---------------------------------------------------------------------------

  #onOpen(open: XmlElement): void {
    // RFC 7395 §3.4: the server answers the first <open/> with <open/> or <close/>; §3.6.1: a
    // <close/> with see-other-uri sends the client to another endpoint (e.g. this node drains).
    const redirect = this.#state === 'initial' ? this.#redirectTarget() : undefined;
    if (redirect !== undefined) return this.#redirect(redirect);
    const expected = this.#state === 'initial' || this.#state === 'restart';
    const checked = checkClientOpen(open, new Set([this.domain]));
    // RFC 7395 §3.4 / R-XWS-7: our <open/> goes first, then any error.
    this.#sendText(openFrame({ from: this.domain, id: randomUUID() }));
    if (!expected) return this.#streamError('not-authorized', 'unexpected stream restart');
    if (checked instanceof EpcError) return this.#streamError(checked.condition);
    if (this.#state === 'initial') {
      this.#state = 'sasl';
      this.send(preAuthFeatures(this.#deps.saslMechanisms ?? SASL_MECHANISMS));
    } else {
      this.#state = 'bind';
      this.send(postAuthFeatures());
    }
  }

  async #onSasl(element: XmlElement): Promise<void> {
    if (element.ns !== NS.sasl || element.name !== 'auth') {
      if (element.ns === NS.sasl && element.name === 'abort') return this.#saslFailure('aborted');
      return this.#streamError('not-authorized', 'stanza before authentication');
    }
    this.#authAttempts += 1;
    const read = readSaslAuth(element.attrs.mechanism, element.text, this.#deps.saslMechanisms ?? SASL_MECHANISMS, this.domain);
    if (!read.ok) return this.#saslFailure(read.condition, read.text);
    const { login } = read;
    const { user } = login;
    this.#login = login;
    this.#secretDigest = sha256(loginSecret(login));
    // XEP-0198 §5: a resuming client authenticates first. When a detached stream of this user
    // has this credential (the IMS accepted it for that stream's registration), no new REGISTER
    // leaves: the client resumes, or registers at bind.
    if (this.#deps.streams?.detachedOf(formatJid(user)).some((stream) => stream.credentialMatches(login))) {
      this.#user = user;
      this.#state = 'restart';
      return this.send(xmlElement('success', NS.sasl));
    }
    this.#state = 'authenticating';
    // Issue #15: a stream of this user is resumable on some node (perhaps a dead one) and this
    // core can take its registered flow over: no REGISTER now. The credential is checked at
    // <resume/> against the record's salted verifier, or by the REGISTER at <bind/> (README,
    // "Resuming on another node").
    if (await this.#resumableElsewhere(formatJid(user))) {
      if ((this.#state as StreamState) === 'closed') return;
      this.#user = user;
      this.#state = 'restart';
      return this.send(xmlElement('success', NS.sasl));
    }
    if ((this.#state as StreamState) === 'closed') return;
    const refused = await this.#registerUe();
    if (refused !== undefined) {
      if ((this.#state as StreamState) === 'closed') return;
      this.#state = 'sasl';
      return login.mechanism === 'OAUTHBEARER' ? this.#tokenRefused(refused) : this.#plainRefused(refused);
    }
    this.#user = user;
    this.#state = 'restart';
    this.send(xmlElement('success', NS.sasl));
  }

  async #resumableElsewhere(bareJid: string): Promise<boolean> {
    const streams = this.#deps.streams;
    if (streams === undefined || this.#deps.flows?.adoptRegistered === undefined || this.#deps.options.resumeGraceSeconds === 0) return false;
    return streams.hasLogin(bareJid).catch((error: unknown) => {
      this.log.debug({ err: error }, 'xmpp-ws: login index unreachable, registering');
      return false;
    });
  }

  /**
   * The UE registers with the login's credential (scenario 1: the PLAIN password answers the IMS
   * digest challenge; scenarios 2/3: the token rides the REGISTER as Bearer). Resolves undefined
   * once registered, else with what refused it.
   */
  async #registerUe(): Promise<RegistrationInfo | undefined> {
    const login = this.#login;
    if (login === undefined) return { state: 'failed', reason: 'no login' };
    const identity: UaIdentity = ueIdentity(login);
    const ue = this.#deps.createUe(identity);
    this.#ue = ue; // the 401 and the 200 come back through onSipMessage
    let info: RegistrationInfo = { state: 'failed' };
    try {
      info = await ue.register();
    } catch (error) {
      this.log.info({ err: error }, 'xmpp-ws: REGISTER failed');
    }
    if ((this.#state as StreamState) === 'closed' || info.state !== 'registered') {
      if (this.#ue === ue) this.#ue = undefined;
      ue.removeAllListeners();
      ue.close();
      return info.state === 'registered' ? { state: 'failed', reason: 'stream closed' } : info;
    }
    return undefined;
  }

  /**
   * R-REG-4 in XMPP's form: the P-CSCF's reason phrase in <text/> ("Token expired"…). A refusal is
   * not-authorized; a network that could not answer (408/5xx other than a token's 503) is
   * temporary-auth-failure (RFC 6120 §6.5.10), so the client knows to try again later.
   */
  #tokenRefused(info: RegistrationInfo): void {
    const status = info.status ?? 0;
    const tokenWords = (info.reason ?? '').startsWith('Token ');
    const temporary = !tokenWords && (status === 408 || status >= 500);
    this.#saslFailure(temporary ? 'temporary-auth-failure' : 'not-authorized', info.reason);
  }

  /**
   * PLAIN: wrong credentials are not-authorized (nothing more said); a network that could not
   * serve the REGISTER now (408/5xx, e.g. the P-CSCF's overload 503 "too many registrations...",
   * issue 15) is temporary-auth-failure (RFC 6120 §6.5.10) with the reason phrase in <text/>.
   */
  #plainRefused(info: RegistrationInfo): void {
    const status = info.status ?? 0;
    if (status === 408 || status >= 500) return this.#saslFailure('temporary-auth-failure', info.reason);
    this.#saslFailure('not-authorized');
  }

  #saslFailure(condition: string, text?: string): void {
    // RFC 6120 §6.4.5: the server may limit the retries, then close the stream; §6.5: an
    // optional <text/> says why (for a web token: the P-CSCF's reason phrase, R-REG-4).
    const why = text !== undefined && text !== '' ? [xmlElement('text', NS.sasl, { 'xml:lang': 'en' }, [], text)] : [];
    this.send(xmlElement('failure', NS.sasl, {}, [xmlElement(condition, NS.sasl), ...why]));
    if (this.#authAttempts >= this.#deps.options.maxAuthAttempts) this.#streamError('policy-violation', 'too many authentication attempts');
  }

  async #onBind(element: XmlElement): Promise<void> {
    const bind = element.name === 'iq' && element.attrs.type === 'set' ? childOf(element, 'bind', NS.bind) : undefined;
    const user = this.#user;
    if (bind === undefined || user === undefined) return this.#streamError('not-authorized', 'stanza before resource binding');
    if (this.#ue === undefined) {
      // Authenticated against a detached stream but binding a new one: register now.
      this.#state = 'authenticating';
      if ((await this.#registerUe()) !== undefined) return this.#streamError('not-authorized', 'registration failed');
    }
    const ue = this.#ue;
    if (ue === undefined) return this.#streamError('not-authorized', 'stanza before resource binding');
    // RFC 6120 §7.6/7.7: the client's resource when it is a valid one, else one of ours.
    const wanted = childOf(bind, 'resource', NS.bind)?.text.trim();
    let full: Jid;
    try {
      full = parseJid(`${formatJid(user)}/${wanted ? wanted : `epcscf-${randomUUID().slice(0, 8)}`}`);
    } catch (error) {
      if (!(error instanceof EpcError)) throw error;
      full = parseJid(`${formatJid(user)}/epcscf-${randomUUID().slice(0, 8)}`);
    }
    this.#fullJid = formatJid(full);
    this.#state = 'ready';
    this.#startServices(ue);
    this.send(iqResult(element, undefined, this.#fullJid, xmlElement('bind', NS.bind, {}, [xmlElement('jid', NS.bind, {}, [], this.#fullJid)])));
  }

  /** Chat, calls and conferences of the bound stream, over its UE. */
  #startServices(ue: VirtualUe): void {
    this.#chat = new ChatBridge(this, ue);
    this.#calls = new JingleCalls(this, ue, this.#deps.options);
    this.#conference = new ConferenceBridge({ domain: this.domain, fullJid: this.#fullJid, send: (element) => this.send(element) },
      this.#deps.conferenceFactoryUri ?? derivedConferenceFactoryUri(this.domain), ue, this.#calls);
    ue.on('message', (message) => this.#chat?.fromSip(message));
    ue.on('incoming', (call, from) => this.#calls?.incoming(call, from));
    // Issue #15: a refresh moves the CSeq and the digest nonce count; the record follows.
    ue.on('registration', (info) => { if (info.state === 'registered') this.#storeLiveRecord(); });
  }

  // ---- stanzas ------------------------------------------------------------------------------------

  async #onStanza(element: XmlElement): Promise<void> {
    if (element.ns !== NS.client) return this.#streamError('unsupported-stanza-type');
    switch (element.name) {
      case 'message':
        if (element.children.some((child) => child.ns === NS.jingleMessage)) return this.#calls?.jingleMessage(element);
        return this.#chat?.fromClient(element);
      case 'presence': return this.#onPresence(element);
      case 'iq': return this.#onIq(element);
      default: return this.#streamError('unsupported-stanza-type');
    }
  }

  #onPresence(presence: XmlElement): void {
    // RFC 6121 §4.2.2: the server echoes the user's own broadcast presence to the user. Presence
    // to other users is not bridged (no SIP presence here): it is dropped.
    if (presence.attrs.to !== undefined) return;
    const type = presence.attrs.type;
    if (type !== undefined && type !== 'unavailable') return;
    this.send(stanza('presence', { from: this.#fullJid, to: this.#fullJid, type }, presence.children));
    if (type === undefined && !this.#presenceSent) {
      this.#presenceSent = true;
      void this.#learnClientFeatures();
    }
  }

  /** XEP-0030 of the client's full JID: does it ring with XEP-0353 (Conversations, converse.js)? */
  async #learnClientFeatures(): Promise<void> {
    const answer = await this.request(stanza('iq', { type: 'get', id: randomUUID(), from: this.domain, to: this.#fullJid }, [xmlElement('query', NS.discoInfo)]));
    const query = answer?.attrs.type === 'result' ? childOf(answer, 'query', NS.discoInfo) : undefined;
    this.#supportsJingleMessage = query?.children.some((feature) => feature.name === 'feature' && feature.attrs.var === NS.jingleMessage) ?? false;
  }

  async #onIq(iq: XmlElement): Promise<void> {
    const type = iq.attrs.type;
    if (type === 'result' || type === 'error') {
      const pending = iq.attrs.id === undefined ? undefined : this.#pendingIqs.get(iq.attrs.id);
      if (pending !== undefined && iq.attrs.id !== undefined) {
        this.#pendingIqs.delete(iq.attrs.id);
        clearTimeout(pending.timer);
        pending.resolve(iq);
      }
      return;
    }
    const payload = iqPayload(iq);
    if ((type !== 'get' && type !== 'set') || iq.attrs.id === undefined || payload === undefined) {
      return this.send(stanzaError(iq, iq.attrs.to, this.#fullJid, { condition: 'bad-request', type: 'modify' }));
    }
    const to = iq.attrs.to;
    if (to === undefined || to === this.domain || to === this.bareJid || to === this.#fullJid) return this.#serverIq(iq, type, payload);
    const peer = mappedPeer(to, this.domain);
    // RFC 6120 §10.5.4 / RFC 7247 §5: nothing answers for a JID this gateway does not map.
    if (peer === undefined) return this.send(stanzaError(iq, to, this.#fullJid, SERVICE_UNAVAILABLE));
    if (payload.ns === NS.jingle && type === 'set') return this.#calls?.jingleIq(iq, payload, peer);
    if (payload.ns === MMTEL_NS && payload.name === 'call-completion' && type === 'set') { // TS 24.642, calls/call-completion-bridge.ts
      if (this.#calls === undefined) return this.send(stanzaError(iq, to, this.#fullJid, SERVICE_UNAVAILABLE));
      return void this.#calls.callCompletionIq(iq, payload);
    }
    if (payload.ns === NS.discoInfo && type === 'get') return this.send(iqResult(iq, to, this.#fullJid, discoInfo(payload.attrs.node)));
    return this.send(stanzaError(iq, to, this.#fullJid, FEATURE_NOT_IMPLEMENTED));
  }

  #serverIq(iq: XmlElement, type: 'get' | 'set', payload: XmlElement): void {
    const from = iq.attrs.to;
    const key = `${type} ${payload.ns} ${payload.name}`;
    switch (key) {
      case `get ${NS.ping} ping`:
      case `set ${NS.session} session`: // RFC 3921 §3: a no-op since RFC 6121
        return this.send(iqResult(iq, from, this.#fullJid));
      case `get ${NS.discoInfo} query`: return this.send(iqResult(iq, from, this.#fullJid, discoInfo(payload.attrs.node)));
      case `get ${NS.roster} query`: return this.send(iqResult(iq, from, this.#fullJid, emptyRoster()));
      case `set ${MMTEL_NS} mwi`: return void this.#mwiIq(iq, payload); // TS 24.606, mmtel/mwi.ts
      case `get ${MMTEL_NS} ut`:
      case `set ${MMTEL_NS} ut`: return void this.#utIq(iq, type, payload); // TS 24.623, mmtel/ut.ts
      case `set ${MMTEL_NS} conference`: // TS 24.605, mmtel/conference.ts
        if (this.#conference === undefined) return this.send(stanzaError(iq, from, this.#fullJid, SERVICE_UNAVAILABLE));
        return void this.#conference.iq(iq, payload);
      default: return this.send(stanzaError(iq, from, this.#fullJid, FEATURE_NOT_IMPLEMENTED));
    }
  }

  /** TS 24.606 MWI on the client's request: one message-summary subscription per session. */
  async #mwiIq(iq: XmlElement, payload: XmlElement): Promise<void> {
    const ue = this.#ue;
    if (ue === undefined || ue.registration.state !== 'registered') return this.send(stanzaError(iq, iq.attrs.to, this.#fullJid, SERVICE_UNAVAILABLE));
    if (this.#mwi === undefined || this.#mwiUe !== ue) {
      this.#mwi = new MwiBridge({ domain: this.domain, fullJid: this.#fullJid, send: (element) => this.send(element) }, ue);
      this.#mwiUe = ue;
    }
    await this.#mwi.subscribe(iq, payload).catch((error: unknown) => {
      this.log.warn({ err: error }, 'xmpp-ws: message-summary subscription failed');
      this.send(stanzaError(iq, iq.attrs.to, this.#fullJid, SERVICE_UNAVAILABLE));
    });
  }

  /** TS 24.623 Ut: the registered user's simservs document through core/ut (mmtel/ut.ts). */
  async #utIq(iq: XmlElement, type: 'get' | 'set', payload: XmlElement): Promise<void> {
    const deps = this.#deps;
    const utRequest = deps.utRequest;
    const ue = this.#ue;
    if (utRequest === undefined || ue === undefined || ue.registration.state !== 'registered') {
      return this.send(stanzaError(iq, iq.attrs.to, this.#fullJid, { ...SERVICE_UNAVAILABLE, text: utRequest === undefined ? 'Ut is not configured' : 'register first' }));
    }
    const link = {
      fullJid: this.#fullJid, parser: this.#parser, send: (element: XmlElement) => this.send(element),
      utRequest: (request: UtRequest) => utRequest.call(deps, request),
    };
    await answerUtIq(link, iq, type, payload).catch((error: unknown) => {
      this.log.warn({ err: error }, 'xmpp-ws: Ut request failed');
      this.send(stanzaError(iq, iq.attrs.to, this.#fullJid, { condition: 'internal-server-error', type: 'cancel' }));
    });
  }

  // ---- XEP-0198 stream management ------------------------------------------------------------------

  #onSmNonza(element: XmlElement): void | Promise<void> {
    if (this.#state === 'bind') {
      if (element.name === 'resume') return this.#onResume(element);
      return this.send(smFailed('unexpected-request'));
    }
    switch (element.name) {
      case 'enable': return this.#onEnable(element);
      case 'r': if (this.#sm !== undefined) this.#sendText(serializeElement(this.#sm.ackElement())); return;
      case 'a': {
        const h = parseH(element.attrs.h);
        // XEP-0198 §4: an h beyond what was sent is a protocol error (undefined-condition).
        if (this.#sm !== undefined && (h === undefined || !this.#sm.acknowledge(h))) return this.#streamError('undefined-condition', 'h acknowledges more than was sent');
        return;
      }
      default: return this.send(smFailed('unexpected-request'));
    }
  }

  /** XEP-0198 §3: after bind; with resume='true' the stream outlives its WebSocket for the grace. */
  #onEnable(element: XmlElement): void {
    if (this.#sm !== undefined) return this.send(smFailed('unexpected-request'));
    this.#sm = new StreamManagement(this.#deps.options.smMaxQueue);
    const wanted = element.attrs.resume === 'true' || element.attrs.resume === '1';
    const grace = this.#deps.options.resumeGraceSeconds;
    const streams = this.#deps.streams;
    if (wanted && grace > 0 && streams !== undefined && this.#deps.flows !== undefined) {
      this.#smId = streams.issue(this);
      this.send(xmlElement('enabled', NS.sm, { id: this.#smId, resume: 'true', max: String(grace) }));
      return this.#storeLiveRecord();
    }
    this.send(xmlElement('enabled', NS.sm));
  }

  #resumable(): boolean {
    return this.#state === 'ready' && this.#smId !== undefined && this.#deps.flows !== undefined && this.#ue?.registration.state === 'registered';
  }

  /**
   * The WebSocket dropped: the UE, its registration and its calls stay (the core keeps the flow),
   * and the stream's record goes to host.state, so the client may resume here or on another node.
   */
  async #detach(): Promise<void> {
    const smId = this.#smId;
    const flows = this.#deps.flows;
    const sm = this.#sm;
    if (smId === undefined || flows === undefined || sm === undefined) return;
    const graceMs = this.#deps.options.resumeGraceSeconds * 1000;
    this.#state = 'detached';
    flows.keep(this.#conn.id, graceMs + KEEP_MARGIN_MS);
    this.#graceTimer = setTimeout(() => void this.#expire(), graceMs);
    this.#graceTimer.unref();
    this.log.info({ graceMs }, 'xmpp-ws: WebSocket dropped, stream resumable (XEP-0198)');
    await this.#deps.streams?.detach(smId, this.#record(sm, true), graceMs).catch((error: unknown) => {
      this.log.warn({ err: error }, 'xmpp-ws: stream record not stored, resumable on this node only');
    });
  }

  /** What another node needs to resume this stream (never the password: a salted verifier of the credential). */
  #record(sm: StreamManagement, detached: boolean): StreamRecord {
    const snapshot = this.#ue?.registrationSnapshot();
    return {
      bareJid: this.bareJid, fullJid: this.#fullJid, ...verifierOf(this.#secretDigest ?? Buffer.alloc(0)),
      instanceId: this.#ue?.instanceId ?? '', supportsJingleMessage: this.#supportsJingleMessage, detached,
      ...(snapshot !== undefined ? { registration: snapshot } : {}), sm: sm.snapshot(RECORD_MAX_QUEUE_BYTES),
    };
  }

  /**
   * Issue #15: the record of a live resumable stream, written when resumption is enabled and on
   * every registration change, so a node that dies without a detach leaves it resumable (with
   * the registration another node adopts) for as long as the registration lasts.
   */
  #storeLiveRecord(): void {
    const smId = this.#smId;
    const sm = this.#sm;
    const streams = this.#deps.streams;
    if (smId === undefined || sm === undefined || streams === undefined || this.#state !== 'ready' || this.#ue?.registration.state !== 'registered') return;
    const record = this.#record(sm, false);
    const left = record.registration === undefined ? LIVE_RECORD_MIN_TTL_MS : record.registration.expiresAt - this.#deps.now();
    const ttlMs = Math.min(LIVE_RECORD_MAX_TTL_MS, Math.max(LIVE_RECORD_MIN_TTL_MS, left));
    streams.store(smId, record, ttlMs).catch((error: unknown) => {
      this.log.warn({ err: error }, 'xmpp-ws: stream record not stored, resumable on this node only');
    });
  }

  /** The grace ran out: de-register and end the calls as a closed stream does. */
  async #expire(): Promise<void> {
    if (this.#state !== 'detached') return;
    this.log.info('xmpp-ws: resumption grace expired');
    await this.#end();
  }

  /**
   * On the new connection (authenticated, not bound): take over the detached stream `previd`,
   * the live one when it detached on this node, else from the record another node stored.
   */
  async #onResume(element: XmlElement): Promise<void> {
    const previd = element.attrs.previd;
    const h = parseH(element.attrs.h);
    const streams = this.#deps.streams;
    const login = this.#login;
    const digest = this.#secretDigest;
    // XEP-0198 §5: an unknown, expired or foreign id fails with item-not-found; the client may bind.
    if (previd === undefined || h === undefined || streams === undefined || login === undefined || digest === undefined || this.#tokenExpired(login)) {
      return this.send(smFailed('item-not-found'));
    }
    this.#state = 'authenticating'; // nothing else is taken until <resumed/> or <failed/> (XEP-0198 §5)
    const resumption = await streams.take(previd, this.bareJid, digest).catch((error: unknown) => {
      this.log.warn({ err: error }, 'xmpp-ws: stream records unreachable, resumption refused');
      return undefined;
    });
    if ((this.#state as StreamState) === 'closed') return;
    if (resumption === undefined) {
      this.#state = 'bind';
      return this.send(smFailed('item-not-found'));
    }
    if (resumption.kind === 'remote') return this.#resumeFromRecord(previd, h, resumption.record, resumption.putBack);
    this.#state = 'closed'; // this session only carried the authentication; the resumed one takes the connection
    const resumed = await resumption.stream.resumeOn(this.#conn, this.#deps, previd, h);
    if (!resumed) {
      this.#state = 'bind';
      this.send(smFailed('item-not-found'));
    }
  }

  /**
   * Issue #15: the stream lived on another node (detached there, or that node died). Its live
   * object, if any, stays there; this node resumes what the record carries: the bound JID, the
   * XEP-0198 counters and the unacknowledged stanzas, over the record's registration where the
   * core takes its flow over (no REGISTER), else over this connection's own registration
   * (a detached record only: the old node ends its own at its grace, or lets it go when moved).
   */
  async #resumeFromRecord(previd: string, h: number, record: StreamRecord, putBack: (ttlMs: number) => Promise<void>): Promise<void> {
    const adopted = this.#ue === undefined && await this.#adoptRegistration(record.registration);
    if ((this.#state as StreamState) === 'closed') return;
    if (!adopted && !record.detached) {
      // A live record: its node may still serve the stream. Only the core's adoption (refused
      // while the flow's node is alive) proves it gone; else the record stays for its owner.
      const left = (record.registration?.expiresAt ?? 0) - this.#deps.now();
      if (left > 0) await putBack(Math.min(left, LIVE_RECORD_MAX_TTL_MS)).catch(() => undefined);
      if ((this.#state as StreamState) === 'closed') return;
      this.#state = 'bind';
      return this.send(smFailed('item-not-found'));
    }
    if (!adopted && this.#ue === undefined && (await this.#registerUe()) !== undefined) {
      if ((this.#state as StreamState) === 'closed') return;
      this.#state = 'bind';
      return this.send(smFailed('item-not-found'));
    }
    const ue = this.#ue;
    const streams = this.#deps.streams;
    if (ue === undefined || streams === undefined || (this.#state as StreamState) === 'closed') return;
    this.#fullJid = record.fullJid;
    this.#supportsJingleMessage = record.supportsJingleMessage;
    this.#presenceSent = true; // the client announced itself before the drop
    // A record written while the stream was live (its node died without a detach) has the
    // counters of its last write: what the client says it handled is taken at its word, and
    // what it sent after that write it sends again (XEP-0198 §5, at least once).
    const sm = new StreamManagement(this.#deps.options.smMaxQueue, record.detached ? record.sm : { ...record.sm, outbound: h, unacked: [], missing: 0 });
    this.#sm = sm;
    this.#smId = streams.issue(this, previd); // XEP-0198 §5: the id keeps naming the stream
    this.#state = 'ready';
    this.#startServices(ue);
    if (!sm.acknowledge(h)) return this.#streamError('undefined-condition', 'h acknowledges more than was sent');
    this.#sendText(serializeElement(xmlElement('resumed', NS.sm, { previd, h: String(sm.inbound) })));
    for (const text of sm.pending()) this.#sendText(text);
    this.#storeLiveRecord(); // this node holds the stream now: a crash here leaves it resumable too
    this.log.info({ resent: sm.unacknowledged, lost: sm.lost, adopted, previousInstanceId: record.instanceId, instanceId: ue.instanceId }, 'xmpp-ws: stream resumed from another node (XEP-0198)');
  }

  /**
   * Issue #15: the UE carries the record's registration on (same Call-ID, Contact, next CSeq;
   * the password from this login) once the core has pointed its flow at this connection, with
   * no REGISTER on Mw. False (the caller registers) when there is nothing to adopt, the binding
   * has lapsed, or the core cannot take the flow over.
   */
  async #adoptRegistration(snapshot: RegistrationSnapshot | undefined): Promise<boolean> {
    const adopt = this.#deps.flows?.adoptRegistered;
    const login = this.#login;
    if (adopt === undefined || snapshot === undefined || login === undefined || snapshot.expiresAt <= this.#deps.now()) return false;
    try {
      await adopt(`sip:${snapshot.contactUser}@${snapshot.contactHost}`, snapshot.expiresAt);
    } catch (error) {
      this.log.info({ err: error }, 'xmpp-ws: the registered flow could not be taken over, registering again');
      return false;
    }
    if ((this.#state as StreamState) === 'closed') return false;
    this.#ue = this.#deps.createUe(ueIdentity(login), snapshot);
    return true;
  }

  /** Called on the detached stream by the new connection's session. */
  async resumeOn(conn: XmppConnection, deps: XmppWsDeps, previd: string, h: number): Promise<boolean> {
    if (this.#state !== 'detached' || this.#sm === undefined) return false;
    const keptConnectionId = this.#conn.id;
    try {
      await deps.flows?.adopt(keptConnectionId);
    } catch (error) {
      this.log.info({ err: error }, 'xmpp-ws: the kept flow is gone, resumption refused');
      void this.#expire();
      return false;
    }
    clearTimeout(this.#graceTimer);
    this.#conn = conn;
    this.#deps = deps;
    this.#connectionIds.push(conn.id);
    this.#log = undefined; // the next line logs with the new connection's id
    deps.handOverTo?.(this);
    this.#state = 'ready';
    if (!this.#sm.acknowledge(h)) { this.#streamError('undefined-condition', 'h acknowledges more than was sent'); return true; }
    // XEP-0198 §5: <resumed/> with our h, then every stanza the client has not acknowledged.
    this.#sendText(serializeElement(xmlElement('resumed', NS.sm, { previd, h: String(this.#sm.inbound) })));
    for (const text of this.#sm.pending()) this.#sendText(text);
    this.log.info({ resent: this.#sm.unacknowledged }, 'xmpp-ws: stream resumed (XEP-0198)');
    return true;
  }

  // ---- framing ------------------------------------------------------------------------------------

  #sendText(text: string): void {
    if (this.#state === 'closed' || this.#state === 'detached') return;
    // A connection that is closing rejects; nothing is left to tell that client.
    this.#conn.send(text).catch(() => undefined);
  }

  /** R-XWS-7: the error in its own message, then <close/>, then the WebSocket closes. */
  #streamError(condition: StreamErrorCondition, text?: string, code = CLOSE_NORMAL): void {
    if (this.#state === 'closed') return;
    for (const frame of streamErrorFrames(condition, text)) this.#sendText(frame);
    this.#state = 'closed';
    this.#conn.close(code, condition);
  }

  /**
   * The configured see-other-uri, unless it would move a wss:// client to plain ws:// (RFC 7395
   * §3.6.1: clients MUST NOT accept a lower security context, so it would only lose the client).
   */
  #redirectTarget(): string | undefined {
    const uri = this.#deps.options.seeOtherUri;
    if (uri === '') return undefined;
    if (this.#conn.secure === true && uri.startsWith('ws:')) {
      this.log.warn({ seeOtherUri: uri }, 'xmpp-ws: see-other-uri is ws:// but the client came over wss://; serving it here');
      return undefined;
    }
    return uri;
  }

  /** RFC 7395 §3.6.1: <close see-other-uri/> as the answer to <open/>, then the WebSocket closes. */
  #redirect(uri: string): void {
    this.#sendText(closeFrame(uri));
    this.#state = 'closed';
    this.#conn.close(CLOSE_NORMAL, 'see-other-uri');
  }

  /** R-XWS-8: the client closed the stream; we answer <close/> and end the WebSocket. */
  #closeStream(): void {
    this.#sendText(closeFrame());
    this.#state = 'closed';
    this.#conn.close(CLOSE_NORMAL, 'stream closed');
  }
}

/** The stanza bounds of these options (one parser per plugin instance, see XmppWsDeps.parser). */
export function frameParserFor(options: XmppWsOptions): FrameParser {
  return new FrameParser({ maxBytes: options.maxStanzaBytes, maxDepth: options.maxDepth, maxAttributes: options.maxAttributes, maxChildren: options.maxChildren });
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** XEP-0198 §3/§5: <failed/> with a stanza error condition. */
function smFailed(condition: 'item-not-found' | 'unexpected-request'): XmlElement {
  return xmlElement('failed', NS.sm, {}, [xmlElement(condition, NS.stanzaErrors)]);
}
