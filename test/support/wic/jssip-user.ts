/**
 * A JsSIP 3.x user agent in Node, as a test peer: its real SIP signalling over a WebSocket to
 * epcscf (RFC 7118), no media (fake-webrtc.ts stands in for the browser media API). The
 * helpers turn JsSIP's events into promises with deadlines:
 *   const alice = await JsSipUser.connect({ wsUrl, user: 'alice', password: 'alicepw' });
 *   await alice.register();  const call = alice.call('sip:bob@ims.test');  await call.accepted();
 */
import JsSIP from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession.js';
import type { UA } from 'jssip/lib/UA.js';
import { cseq } from '../../../core/sip/index.js';
import { CapturingWsSocket } from './capturing-ws-socket.js';
import { installFakeWebRtc } from './fake-webrtc.js';
import { clearJsSipTransactionTimers, patchJsSipTimerH } from './jssip-timers.js';
import type { FrameCapture } from './frame-capture.js';

export interface JsSipUserOptions {
  readonly wsUrl: string;
  readonly user: string;
  /** Digest password (Kamailio stand-in: alice → alicepw, everyone else → secret). */
  readonly password?: string;
  readonly domain?: string;
  readonly displayName?: string;
  readonly registerExpires?: number;
  readonly extraHeaders?: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 8000;

/** Rejects after `ms` with a message that names what was awaited. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string, detail?: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms${detail ? `\n${detail()}` : ''}`)), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}

/** How a call ended, from JsSIP's 'failed' / 'ended' events. */
export interface CallEnd {
  readonly event: 'failed' | 'ended';
  readonly originator: string;
  readonly cause: string;
  /** The status of the final response when the call failed on one. */
  readonly status: number | undefined;
}

interface SessionEndEvent {
  originator: string;
  cause: string;
  message?: { status_code?: number } | null;
}

export class JsSipCall {
  readonly session: RTCSession;
  readonly #user: JsSipUser;
  readonly #progress: Promise<number>;
  readonly #accepted: Promise<void>;
  readonly #confirmed: Promise<void>;
  readonly #end: Promise<CallEnd>;

  constructor(session: RTCSession, user: JsSipUser) {
    this.session = session;
    this.#user = user;
    const events = session as unknown as NodeJS.EventEmitter;
    this.#progress = new Promise((resolve) => events.once('progress', (e: { response?: { status_code: number } }) => resolve(e.response?.status_code ?? 180)));
    this.#accepted = new Promise((resolve) => events.once('accepted', () => resolve()));
    this.#confirmed = new Promise((resolve) => events.once('confirmed', () => resolve()));
    this.#end = new Promise((resolve) => {
      const done = (event: 'failed' | 'ended') => (e: SessionEndEvent) => resolve({
        event, originator: e.originator, cause: e.cause,
        status: typeof e.message?.status_code === 'number' ? e.message.status_code : undefined,
      });
      events.once('failed', done('failed'));
      events.once('ended', done('ended'));
    });
    // A failure before anyone awaits must not become an unhandled rejection.
    this.#end.catch(() => undefined);
  }

  /** First provisional response (outgoing) status. */
  progress(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<number> {
    return withDeadline(this.#progress, timeoutMs, `${this.#user.user}: 1xx`, () => this.#user.capture.dump());
  }

  /** 2xx sent or received. */
  accepted(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return withDeadline(Promise.race([this.#accepted, this.#end.then((e) => {
      throw new Error(`${this.#user.user}: call ${e.event} (${e.cause}${e.status ? `, ${e.status}` : ''}) instead of being accepted`);
    })]), timeoutMs, `${this.#user.user}: call accepted`, () => this.#user.capture.dump());
  }

  /** ACK sent or received: the dialog is confirmed. */
  confirmed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return withDeadline(this.#confirmed, timeoutMs, `${this.#user.user}: call confirmed (ACK)`, () => this.#user.capture.dump());
  }

  ended(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<CallEnd> {
    return withDeadline(this.#end, timeoutMs, `${this.#user.user}: call end`, () => this.#user.capture.dump());
  }

  /** 200 OK (with `extraHeaders` added verbatim, e.g. a forged P-Asserted-Identity). */
  answer(extraHeaders: readonly string[] = []): void {
    this.session.answer({ mediaConstraints: { audio: false, video: false }, extraHeaders: [...extraHeaders] });
  }

  /** TS 24.610 hold: JsSIP's re-INVITE with its offer sendonly; resolves once it succeeded. */
  hold(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      if (!this.session.hold({}, () => resolve())) reject(new Error(`${this.#user.user}: JsSIP refused to hold (not confirmed, or already held)`));
    });
    return withDeadline(done, timeoutMs, `${this.#user.user}: hold re-INVITE accepted`, () => this.#user.capture.dump());
  }

  /** Rejects an incoming call (or cancels an outgoing one) with `status`. */
  reject(status = 486): void {
    this.session.terminate({ status_code: status });
  }

  /** BYE when established, CANCEL while outgoing and unanswered. */
  hangup(): void {
    this.session.terminate();
  }
}

export class JsSipUser {
  readonly ua: UA;
  readonly socket: CapturingWsSocket;
  readonly user: string;
  readonly aor: string;
  readonly #incoming: JsSipCall[] = [];
  #incomingWaiters: ((call: JsSipCall) => void)[] = [];

  private constructor(options: JsSipUserOptions) {
    installFakeWebRtc();
    patchJsSipTimerH();
    const domain = options.domain ?? 'ims.test';
    this.user = options.user;
    this.aor = `sip:${options.user}@${domain}`;
    this.socket = new CapturingWsSocket(options.wsUrl);
    this.ua = new JsSIP.UA({
      sockets: [this.socket as unknown as JsSIP.Socket],
      uri: this.aor,
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.displayName !== undefined ? { display_name: options.displayName } : {}),
      register: false,
      register_expires: options.registerExpires ?? 600,
      session_timers: false,
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 2,
      user_agent: 'JsSIP-interop-test',
      ...(options.extraHeaders ? { extra_headers: [...options.extraHeaders] } : {}),
    });
    (this.ua as unknown as NodeJS.EventEmitter).on('newRTCSession', (e: { originator: string; session: RTCSession }) => {
      if (e.originator !== 'remote') return;
      const call = new JsSipCall(e.session, this);
      const waiter = this.#incomingWaiters.shift();
      if (waiter) waiter(call); else this.#incoming.push(call);
    });
  }

  get capture(): FrameCapture {
    return this.socket.capture;
  }

  /** Creates the UA and waits for its WebSocket to open. */
  static async connect(options: JsSipUserOptions): Promise<JsSipUser> {
    const user = new JsSipUser(options);
    const connected = new Promise<void>((resolve) => (user.ua as unknown as NodeJS.EventEmitter).once('connected', () => resolve()));
    user.ua.start();
    await withDeadline(connected, DEFAULT_TIMEOUT_MS, `${options.user}: WebSocket connect to ${options.wsUrl}`);
    return user;
  }

  /**
   * REGISTER (answering a digest challenge with the password). Resolves with the final status
   * (200); on failure resolves with the failing status instead of throwing, so tests can assert it.
   */
  register(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<number> {
    const events = this.ua as unknown as NodeJS.EventEmitter;
    const outcome = new Promise<number>((resolve) => {
      const ok = (e: { response: { status_code: number } }) => { events.off('registrationFailed', failed); resolve(e.response.status_code); };
      const failed = (e: { response?: { status_code: number } | null }) => { events.off('registered', ok); resolve(e.response?.status_code ?? 0); };
      events.once('registered', ok);
      events.once('registrationFailed', failed);
      // JsSIP emits 'registered' only on a state change: a refresh is seen on the wire.
      const bookmark = this.capture.frames.length;
      this.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response'
        && f.message.status >= 200 && f.message.status < 300 && cseq(f.message).method === 'REGISTER', { from: bookmark, timeoutMs })
        .then((f) => {
          if (f.message?.kind !== 'response') return;
          events.off('registered', ok);
          events.off('registrationFailed', failed);
          resolve(f.message.status);
        }, () => undefined);
    });
    this.ua.register();
    return withDeadline(outcome, timeoutMs, `${this.user}: REGISTER outcome`, () => this.capture.dump());
  }

  /** REGISTER with Expires 0 (RFC 3261 §10.2.2); resolves once JsSIP reports it unregistered. */
  unregister(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const events = this.ua as unknown as NodeJS.EventEmitter;
    const done = new Promise<void>((resolve) => events.once('unregistered', () => resolve()));
    this.ua.unregister();
    return withDeadline(done, timeoutMs, `${this.user}: un-REGISTER`, () => this.capture.dump());
  }

  /** An INVITE to `target` (a SIP URI or user name), with `extraHeaders` added verbatim. */
  call(target: string, extraHeaders: readonly string[] = []): JsSipCall {
    const session = this.ua.call(target, { mediaConstraints: { audio: false, video: false }, extraHeaders: [...extraHeaders] });
    return new JsSipCall(session, this);
  }

  /** The next incoming call (already delivered ones first). */
  nextIncoming(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<JsSipCall> {
    const queued = this.#incoming.shift();
    if (queued) return Promise.resolve(queued);
    const next = new Promise<JsSipCall>((resolve) => this.#incomingWaiters.push(resolve));
    return withDeadline(next, timeoutMs, `${this.user}: incoming INVITE`, () => this.capture.dump());
  }

  /** Stops the UA without de-registering and cuts the connection (a crashed client). */
  kill(): void {
    this.socket.kill();
  }

  /**
   * De-registers when registered (waiting for the answer, at most 2 s), then stops the UA and
   * closes the socket without waiting for JsSIP's transaction timers. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.socket.isConnected() && this.ua.isRegistered()) {
      await this.unregister(2000).catch(() => undefined);
    }
    this.socket.kill();
    try { this.ua.stop(); } catch { /* already stopped */ }
    clearJsSipTransactionTimers(this.ua);
  }

}
