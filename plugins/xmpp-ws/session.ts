/**
 * One XMPP client over WebSocket (RFC 7395) and its virtual Gm UE (core/ua). The session owns the
 * stream (open/close framing, stream errors, SASL, restart, bind), bounds the client (FloodGuard,
 * parser limits) and routes stanzas: server IQs here, chat to im/chat-bridge.ts, Jingle and
 * XEP-0353 to calls/jingle-calls.ts. It knows the plugin contract only through `XmppWsDeps`
 * and the small `XmppConnection` view, so a contract change touches index.ts alone.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { EpcError } from '../../core/contract/index.js';
import { FloodGuard } from '../../core/contract/index.js';
import type { SipRequest, SipResponse } from '../../core/contract/index.js';
import { checkPrivateIdentity, type UaIdentity, type VirtualUe } from '../../core/contract/index.js';
import { formatJid, parseJid, type Jid } from './address/jid.js';
import { jidToUri } from './address/jid-sip-mapping.js';
import { mappedPeer } from './address/peer-jid.js';
import { JingleCalls } from './calls/jingle-calls.js';
import type { ClientLink } from './client-link.js';
import { ChatBridge } from './im/chat-bridge.js';
import type { XmppWsOptions } from './options.js';
import { FEATURE_NOT_IMPLEMENTED, SERVICE_UNAVAILABLE, iqResult, stanza, stanzaError } from './stanza/stanza-builders.js';
import { discoInfo, emptyRoster, iqPayload } from './stanza/server-features.js';
import { postAuthFeatures, preAuthFeatures, SASL_MECHANISMS } from './stream/features.js';
import { decodePlain } from './stream/sasl-plain.js';
import { childOf, xmlElement, type XmlElement } from './xml/element.js';
import { FrameParser } from './xml/frame-parser.js';
import { closeFrame, openFrame, streamErrorFrames } from './xml/framing.js';
import { NS } from './xml/namespaces.js';
import { checkClientOpen } from './xml/open-header.js';
import { serializeElement } from './xml/serialize.js';
import type { StreamErrorCondition } from './xml/stream-error.js';

/** The connection as the session uses it (a subset of the core's W2Connection). */
export interface XmppConnection {
  readonly id: string;
  readonly remote: { readonly address: string; readonly port: number };
  send(frame: string): Promise<void>;
  close(code?: number, reason?: string): void;
}

/** Builds the connection's UE, already bound to this connection's SIP seam. */
export type XmppUeFactory = (identity: UaIdentity) => VirtualUe;

/** Everything the session needs from outside (the port to contract v2 changes only who fills it). */
export interface XmppWsDeps {
  readonly createUe: XmppUeFactory;
  readonly log: Logger;
  /** Resolved options: `domain` is never empty here. */
  readonly options: XmppWsOptions;
  readonly now: () => number;
  /** A guard cut the client off (counted in epcscf_w2_refused_total{reason="flood"}). */
  readonly reportFlood: () => void;
}

/** RFC 6455 §7.4.1. */
const CLOSE_NORMAL = 1000;
const CLOSE_POLICY_VIOLATION = 1008;
/** How long onClose waits for the de-registering REGISTER to leave (never for its answer). */
const DEREGISTER_HANDOFF_MS = 200;
/** How long the gateway waits for the client's answer to an IQ it sent (disco, Jingle). */
const CLIENT_IQ_TIMEOUT_MS = 10_000;

type StreamState = 'initial' | 'sasl' | 'authenticating' | 'restart' | 'bind' | 'ready' | 'closed';

export class XmppWsSession implements ClientLink {
  readonly domain: string;
  readonly log: Logger;
  readonly #conn: XmppConnection;
  readonly #deps: XmppWsDeps;
  readonly #parser: FrameParser;
  readonly #flood: FloodGuard;
  readonly #pendingIqs = new Map<string, { resolve: (answer: XmlElement | undefined) => void; timer: NodeJS.Timeout }>();
  #state: StreamState = 'initial';
  #authAttempts = 0;
  #user: Jid | undefined;
  #fullJid = '';
  #ue: VirtualUe | undefined;
  #chat: ChatBridge | undefined;
  #calls: JingleCalls | undefined;
  #supportsJingleMessage = false;
  #presenceSent = false;

  constructor(conn: XmppConnection, deps: XmppWsDeps) {
    this.#conn = conn;
    this.#deps = deps;
    this.domain = deps.options.domain;
    this.log = deps.log.child({ connectionId: conn.id });
    this.#parser = new FrameParser({
      maxBytes: deps.options.maxStanzaBytes, maxDepth: deps.options.maxDepth,
      maxAttributes: deps.options.maxAttributes, maxChildren: deps.options.maxChildren,
    });
    this.#flood = new FloodGuard({ ratePerSecond: deps.options.floodRatePerSecond, burst: deps.options.floodBurst }, deps.now);
  }

  // ---- ClientLink ----------------------------------------------------------------------------------

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
    this.#sendText(serializeElement(element));
  }

  request(iq: XmlElement): Promise<XmlElement | undefined> {
    const id = iq.attrs.id;
    if (this.#state === 'closed' || id === undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#pendingIqs.delete(id); resolve(undefined); }, CLIENT_IQ_TIMEOUT_MS);
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
    switch (this.#state) {
      case 'sasl': return this.#onSasl(xmpp.element);
      case 'ready':
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
    const wasOpen = this.#state !== 'closed';
    this.#state = 'closed';
    for (const [id, pending] of this.#pendingIqs) { clearTimeout(pending.timer); pending.resolve(undefined); this.#pendingIqs.delete(id); }
    this.#calls?.close();
    const ue = this.#ue;
    this.#ue = undefined;
    if (ue === undefined) return;
    if (ue.registration.state === 'registered') {
      // R-REG-24: the binding goes with the stream (no resumption yet: XEP-0198 is later work).
      const gone = ue.unregister().then(() => undefined, () => undefined);
      await Promise.race([gone, new Promise<void>((resolve) => setTimeout(resolve, DEREGISTER_HANDOFF_MS).unref())]);
    }
    ue.removeAllListeners();
    ue.close();
    this.log.debug({ wasOpen }, 'xmpp-ws: session closed');
  }

  describe(): Record<string, unknown> {
    return {
      connectionId: this.#conn.id,
      state: this.#state,
      ...(this.#fullJid ? { jid: this.#fullJid } : {}),
      registration: this.#ue?.registration.state ?? 'unregistered',
      calls: this.#calls?.size ?? 0,
    };
  }

  // ---- stream negotiation ---------------------------------------------------------------------------

  #onOpen(open: XmlElement): void {
    const expected = this.#state === 'initial' || this.#state === 'restart';
    const checked = checkClientOpen(open, new Set([this.domain]));
    // RFC 7395 §3.4 / R-XWS-7: our <open/> goes first, then any error.
    this.#sendText(openFrame({ from: this.domain, id: randomUUID() }));
    if (!expected) return this.#streamError('not-authorized', 'unexpected stream restart');
    if (checked instanceof EpcError) return this.#streamError(checked.condition);
    if (this.#state === 'initial') {
      this.#state = 'sasl';
      this.send(preAuthFeatures());
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
    const mechanism = element.attrs.mechanism;
    if (mechanism === undefined || !SASL_MECHANISMS.includes(mechanism)) return this.#saslFailure('invalid-mechanism');
    const decoded = decodePlain(element.text);
    if (!decoded.ok) return this.#saslFailure(decoded.condition);
    const user = this.#userOf(decoded.credentials.authcid);
    if (user === undefined) return this.#saslFailure('not-authorized');
    const { authzid } = decoded.credentials;
    if (authzid !== '' && authzid !== formatJid(user)) return this.#saslFailure('invalid-authzid');
    this.#state = 'authenticating';
    // Scenario 1 (TS 24.371): the PLAIN password answers the IMS digest challenge of the REGISTER.
    const impu = jidToUri(user);
    const ue = this.#deps.createUe({ impu, impi: `${decoded.credentials.authcid.split('@')[0] ?? ''}@${this.domain}`, password: decoded.credentials.password });
    this.#ue = ue; // the 401 and the 200 come back through onSipMessage
    let registered = false;
    try {
      registered = (await ue.register()).state === 'registered';
    } catch (error) {
      this.log.info({ err: error }, 'xmpp-ws: REGISTER failed');
    }
    if ((this.#state as StreamState) === 'closed') { ue.close(); return; }
    if (!registered) {
      this.#ue = undefined;
      ue.removeAllListeners();
      ue.close();
      this.#state = 'sasl';
      return this.#saslFailure('not-authorized');
    }
    this.#user = user;
    this.#state = 'restart';
    this.send(xmlElement('success', NS.sasl));
  }

  /** authcid = the IMPI user: `alice` or `alice@domain`; anything else does not log in here. */
  #userOf(authcid: string): Jid | undefined {
    const at = authcid.indexOf('@');
    const local = at < 0 ? authcid : authcid.slice(0, at);
    if (at >= 0 && authcid.slice(at + 1).toLowerCase() !== this.domain) return undefined;
    try {
      checkPrivateIdentity(`${local}@${this.domain}`, 'authcid');
      const jid = parseJid(`${local}@${this.domain}`);
      return { local: jid.local ?? local, domain: jid.domain };
    } catch (error) {
      if (error instanceof EpcError) return undefined;
      throw error;
    }
  }

  #saslFailure(condition: string): void {
    // RFC 6120 §6.4.5: the server may limit the retries, then close the stream.
    this.send(xmlElement('failure', NS.sasl, {}, [xmlElement(condition, NS.sasl)]));
    if (this.#authAttempts >= this.#deps.options.maxAuthAttempts) this.#streamError('policy-violation', 'too many authentication attempts');
  }

  #onBind(element: XmlElement): void {
    const bind = element.name === 'iq' && element.attrs.type === 'set' ? childOf(element, 'bind', NS.bind) : undefined;
    const ue = this.#ue;
    const user = this.#user;
    if (bind === undefined || ue === undefined || user === undefined) return this.#streamError('not-authorized', 'stanza before resource binding');
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
    this.#chat = new ChatBridge(this, ue);
    this.#calls = new JingleCalls(this, ue, this.#deps.options);
    ue.on('message', (message) => this.#chat?.fromSip(message));
    ue.on('incoming', (call, from) => this.#calls?.incoming(call, from));
    this.send(iqResult(element, undefined, this.#fullJid, xmlElement('bind', NS.bind, {}, [xmlElement('jid', NS.bind, {}, [], this.#fullJid)])));
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
      default: return this.send(stanzaError(iq, from, this.#fullJid, FEATURE_NOT_IMPLEMENTED));
    }
  }

  // ---- framing ------------------------------------------------------------------------------------

  #sendText(text: string): void {
    if (this.#state === 'closed') return;
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

  /** R-XWS-8: the client closed the stream; we answer <close/> and end the WebSocket. */
  #closeStream(): void {
    this.#sendText(closeFrame());
    this.#state = 'closed';
    this.#conn.close(CLOSE_NORMAL, 'stream closed');
  }
}
