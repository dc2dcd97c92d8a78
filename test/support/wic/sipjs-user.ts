/**
 * A SIP.js 0.21 user agent in Node, as a test peer: real SIP.js signalling over its own Web
 * transport (which needs the W3C WebSocket: `ws` is installed as the global), a static-SDP
 * SessionDescriptionHandler instead of WebRTC media, and every frame recorded.
 */
import { WebSocket as NodeWebSocket } from 'ws';
import {
  Invitation, Inviter, Registerer, SessionState, SIPExtension, UserAgent,
  type Session, type SessionDescriptionHandler, type Core,
} from 'sip.js';
import { staticAudioSdp } from './fake-webrtc.js';
import { FrameCapture } from './frame-capture.js';
import { withDeadline } from './jssip-user.js';

export interface SipJsUserOptions {
  readonly wsUrl: string;
  readonly user: string;
  readonly password?: string;
  readonly domain?: string;
  /** RFC 5626 reg-id; set it to register with outbound (SIP.js does not by default). */
  readonly regId?: number;
  readonly expires?: number;
  /** RFC 3262: advertise (Supported) or demand (Required) reliable provisionals; SIP.js default: not at all. */
  readonly sipExtension100rel?: 'Supported' | 'Required';
  /** The local SDP the UA sends (e.g. a browser's WebRTC offer); given the remote offer when answering. */
  readonly localSdp?: (remoteOffer: string | undefined) => string;
}

const DEFAULT_TIMEOUT_MS = 8000;

/** Media-free SDP handling: a static offer/answer, any remote SDP accepted. */
class StaticSdpHandler implements SessionDescriptionHandler {
  readonly #localSdp: ((remoteOffer: string | undefined) => string) | undefined;
  /** The last remote SDP not yet answered (an offer), if any. */
  #pendingRemote: string | undefined;
  constructor(localSdp?: (remoteOffer: string | undefined) => string) {
    this.#localSdp = localSdp;
  }
  close(): void { /* nothing to release */ }
  async getDescription(): Promise<{ body: string; contentType: string }> {
    const remote = this.#pendingRemote;
    this.#pendingRemote = undefined;
    return { body: this.#localSdp ? this.#localSdp(remote) : staticAudioSdp(40004), contentType: 'application/sdp' };
  }
  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }
  async setDescription(sdp: string): Promise<void> {
    if (!sdp.startsWith('v=0')) throw new Error('not an SDP body');
    this.#pendingRemote = sdp;
  }
  sendDtmf(): boolean {
    return false;
  }
}

export class SipJsCall {
  readonly session: Session;
  readonly #established: Promise<void>;
  readonly #terminated: Promise<void>;
  /** Final non-2xx status seen by the inviter, if any. */
  rejectedWith: number | undefined;
  readonly #capture: FrameCapture;

  constructor(session: Session, capture: FrameCapture) {
    this.session = session;
    this.#capture = capture;
    this.#established = new Promise((resolve) => session.stateChange.addListener((s) => { if (s === SessionState.Established) resolve(); }));
    this.#terminated = new Promise((resolve) => session.stateChange.addListener((s) => { if (s === SessionState.Terminated) resolve(); }));
  }

  established(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return withDeadline(this.#established, timeoutMs, 'SIP.js call established', () => this.#capture.dump());
  }

  terminated(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return withDeadline(this.#terminated, timeoutMs, 'SIP.js call terminated', () => this.#capture.dump());
  }

  async answer(): Promise<void> {
    if (!(this.session instanceof Invitation)) throw new Error('answer(): not an incoming call');
    await this.session.accept();
  }

  async reject(status = 486): Promise<void> {
    if (!(this.session instanceof Invitation)) throw new Error('reject(): not an incoming call');
    await this.session.reject({ statusCode: status });
  }

  /** BYE when established, CANCEL for an unanswered outgoing call. */
  async hangup(): Promise<void> {
    if (this.session.state === SessionState.Established) await this.session.bye();
    else if (this.session instanceof Inviter) await this.session.cancel();
  }
}

export class SipJsUser {
  readonly ua: UserAgent;
  readonly capture = new FrameCapture();
  readonly registerer: Registerer;
  readonly aor: string;
  readonly #incoming: SipJsCall[] = [];
  #incomingWaiters: ((call: SipJsCall) => void)[] = [];

  private constructor(options: SipJsUserOptions) {
    // SIP.js's Web transport calls `new WebSocket(url, 'sip')`: Node 20 has no global one.
    (globalThis as Record<string, unknown>)['WebSocket'] ??= NodeWebSocket;
    this.aor = `sip:${options.user}@${options.domain ?? 'ims.test'}`;
    const uri = UserAgent.makeURI(this.aor);
    if (uri === undefined) throw new Error(`bad AOR ${this.aor}`);
    this.ua = new UserAgent({
      uri,
      authorizationUsername: options.user,
      ...(options.password !== undefined ? { authorizationPassword: options.password } : {}),
      transportOptions: { server: options.wsUrl, traceSip: false },
      sessionDescriptionHandlerFactory: () => new StaticSdpHandler(options.localSdp),
      ...(options.sipExtension100rel !== undefined
        ? { sipExtension100rel: options.sipExtension100rel === 'Required' ? SIPExtension.Required : SIPExtension.Supported } : {}),
      logBuiltinEnabled: false,
      logLevel: 'error',
      userAgentString: 'SIP.js-interop-test',
      delegate: {
        onInvite: (invitation) => {
          const call = new SipJsCall(invitation, this.capture);
          const waiter = this.#incomingWaiters.shift();
          if (waiter) waiter(call); else this.#incoming.push(call);
        },
      },
    });
    // Record the frames: the UA hands every received message to transport.onMessage and
    // sends through transport.send.
    const transport = this.ua.transport;
    const deliver = transport.onMessage;
    transport.onMessage = (message: string) => {
      this.capture.record('received', message);
      deliver?.(message);
    };
    const send = transport.send.bind(transport);
    transport.send = (message: string) => {
      this.capture.record('sent', message);
      return send(message);
    };
    this.registerer = new Registerer(this.ua, {
      expires: options.expires ?? 600,
      ...(options.regId !== undefined ? { regId: options.regId } : {}),
    });
  }

  static async connect(options: SipJsUserOptions): Promise<SipJsUser> {
    const user = new SipJsUser(options);
    await withDeadline(user.ua.start(), DEFAULT_TIMEOUT_MS, `SIP.js ${options.user}: connect to ${options.wsUrl}`);
    return user;
  }

  /** REGISTER (digest answered by SIP.js); resolves with the final status, never throws on a failure. */
  register(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<number> {
    const outcome = new Promise<number>((resolve) => {
      void this.registerer.register({
        requestDelegate: {
          onAccept: (response: Core.IncomingResponse) => resolve(response.message.statusCode ?? 0),
          onReject: (response: Core.IncomingResponse) => resolve(response.message.statusCode ?? 0),
        },
      });
    });
    return withDeadline(outcome, timeoutMs, `SIP.js ${this.aor}: REGISTER outcome`, () => this.capture.dump());
  }

  unregister(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<number> {
    const outcome = new Promise<number>((resolve) => {
      void this.registerer.unregister({
        requestDelegate: {
          onAccept: (response: Core.IncomingResponse) => resolve(response.message.statusCode ?? 0),
          onReject: (response: Core.IncomingResponse) => resolve(response.message.statusCode ?? 0),
        },
      });
    });
    return withDeadline(outcome, timeoutMs, `SIP.js ${this.aor}: un-REGISTER`, () => this.capture.dump());
  }

  /** Sends an INVITE (with `extraHeaders` verbatim); the returned call records a final failure status in `rejectedWith`. */
  call(target: string, extraHeaders: readonly string[] = []): SipJsCall {
    const uri = UserAgent.makeURI(target);
    if (uri === undefined) throw new Error(`bad target ${target}`);
    const inviter = new Inviter(this.ua, uri, extraHeaders.length > 0 ? { extraHeaders: [...extraHeaders] } : {});
    const call = new SipJsCall(inviter, this.capture);
    void inviter.invite({
      requestDelegate: { onReject: (response: Core.IncomingResponse) => { call.rejectedWith = response.message.statusCode; } },
    }).catch(() => undefined);
    return call;
  }

  nextIncoming(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<SipJsCall> {
    const queued = this.#incoming.shift();
    if (queued) return Promise.resolve(queued);
    const next = new Promise<SipJsCall>((resolve) => this.#incomingWaiters.push(resolve));
    return withDeadline(next, timeoutMs, `SIP.js ${this.aor}: incoming INVITE`, () => this.capture.dump());
  }

  /** Closes the WebSocket without de-registering (the flow dies; SIP.js does not reconnect by default). */
  async kill(): Promise<void> {
    await this.ua.transport.disconnect().catch(() => undefined);
  }

  /** Stops the UA (SIP.js de-registers a registered Registerer first) and closes its WebSocket. */
  async stop(): Promise<void> {
    await Promise.race([this.ua.stop(), new Promise<void>((r) => setTimeout(r, 2000).unref())]).catch(() => undefined);
  }
}
