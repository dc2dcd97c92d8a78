/**
 * One XMPP client of the load generator over a raw `ws` WebSocket (RFC 7395, subprotocol
 * `xmpp`), speaking through the templates of xmpp-wire.ts:
 *   login:  <open/> → features → SASL PLAIN (epcscf registers the virtual UE in IMS: REGISTER →
 *           401 → REGISTER with digest → 200, then <success/>) → <open/> again → bind.
 *   logout: <close/> → the server's <close/> and WebSocket close (epcscf de-registers).
 *   chat:   a chat message to another logged-in user, done when that user's session receives it
 *           (RFC 7572: SIP MESSAGE through the IMS core and back).
 *   call:   session-initiate → (callee: session-initiate, result, session-accept) →
 *           session-accept → session-terminate; done when the callee has had its
 *           session-terminate (XEP-0166 over the virtual UEs' INVITE / 200 / ACK / BYE).
 * As a callee the client accepts every incoming session at once.
 * No per-stanza timer: the caller bounds the whole operation (withTimeout).
 */
import WebSocket from 'ws';
import {
  anyAttr, bindResource, bodyText, chatMessage, closeStream, firstTagAttr, iqResult, openStream, saslPlain,
  sessionAccept, sessionInitiate, sessionTerminate,
} from './xmpp-wire.js';

export const XMPP_SUBPROTOCOL = 'xmpp';

export interface XmppUserOptions {
  /** ws://host:port/xmpp */
  readonly url: string;
  /** The IMPI user part (SASL authcid). */
  readonly user: string;
  readonly password: string;
  readonly domain: string;
}

type FrameWaiter = (frame: string) => void;

/** Rejects with `what` when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class XmppUser {
  readonly bare: string;
  #fullJid = '';
  readonly #ws: WebSocket;
  readonly #options: XmppUserOptions;
  readonly #closed: Promise<void>;
  /** Stream-level frames (open, features, SASL answer) not yet read by the login, and the reader waiting for one
   * (frames of one TCP read arrive in one synchronous burst, before a resolved reader could wait again). */
  readonly #streamFrames: string[] = [];
  #streamWaiter: FrameWaiter | undefined;
  /** IQ results/errors by id. */
  readonly #iqs = new Map<string, FrameWaiter>();
  /** Jingle sets from the server by `<action> <sid>` (the caller's session-accept / -terminate). */
  readonly #jingle = new Map<string, FrameWaiter>();
  /** Chat bodies awaited by this (receiving) session. */
  readonly #chats = new Map<string, () => void>();
  /** Resolves when the incoming call this callee is in has been terminated. */
  #onCallEnded: (() => void) | undefined;
  #nextId = 0;
  #error: Error | undefined;
  /** WebSocket messages sent and received. */
  frames = 0;

  private constructor(ws: WebSocket, options: XmppUserOptions) {
    this.#ws = ws;
    this.#options = options;
    this.bare = `${options.user}@${options.domain}`;
    ws.on('message', (data) => this.#receive(String(data)));
    this.#closed = new Promise((resolve) => ws.once('close', () => {
      this.#error = new Error('WebSocket closed');
      this.#streamWaiter?.('');
      resolve();
    }));
  }

  /** Opens the WebSocket and logs in (SASL PLAIN + bind); rejects on a SASL failure or stream error. */
  static async login(options: XmppUserOptions): Promise<XmppUser> {
    // perMessageDeflate off: the server has it off (as the other benches).
    const ws = new WebSocket(options.url, XMPP_SUBPROTOCOL, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const user = new XmppUser(ws, options);
    try {
      await user.#login();
    } catch (error) {
      user.close();
      throw error;
    }
    return user;
  }

  get connected(): boolean {
    return this.#ws.readyState === WebSocket.OPEN && this.#fullJid !== '';
  }

  /** RFC 7395 §3.6: <close/>, then the server closes the WebSocket (epcscf de-registers the UE). */
  async logout(): Promise<void> {
    this.#send(closeStream);
    await this.#closed;
  }

  close(): void {
    this.#ws.terminate();
  }

  /** A chat message to `to`, done when `to`'s session has received it. */
  async chat(to: XmppUser): Promise<void> {
    const body = `m${this.#nextId++}`;
    const received = new Promise<void>((resolve) => to.#chats.set(`${this.bare} ${body}`, resolve));
    this.#send(chatMessage(body, to.bare, body));
    await received;
  }

  /** One call to `callee`: initiate, accepted by the callee, then terminated; done when both sides are through. */
  async call(callee: XmppUser): Promise<void> {
    const sid = `${this.#options.user}s${this.#nextId++}`;
    const calleeEnded = new Promise<void>((resolve) => { callee.#onCallEnded = resolve; });
    const accepted = this.#awaitJingle('session-accept', sid);
    await this.#request((id) => sessionInitiate(id, callee.bare, sid, this.#fullJid));
    const accept = await accepted;
    this.#send(iqResult(firstTagAttr(accept, 'id'), firstTagAttr(accept, 'from')));
    await this.#request((id) => sessionTerminate(id, callee.bare, sid));
    await calleeEnded;
  }

  // ---- internals -------------------------------------------------------------------------------

  async #login(): Promise<void> {
    const { domain, user, password } = this.#options;
    this.#send(openStream(domain));
    await this.#expectStream('<features', 'stream features');
    this.#send(saslPlain(user, password));
    const answer = await this.#nextStreamFrame();
    if (!answer.startsWith('<success')) throw new Error(`SASL PLAIN for ${user}: ${answer.slice(0, 200) || 'stream closed'}`);
    this.#send(openStream(domain)); // RFC 6120 §6.4.6: restart after SASL
    await this.#expectStream('<features', 'stream features after SASL');
    const bound = await this.#request((id) => bindResource(id, 'bench'));
    const jid = /<jid[^>]*>([^<]+)<\/jid>/.exec(bound)?.[1];
    if (jid === undefined) throw new Error(`bind for ${user}: ${bound.slice(0, 200)}`);
    this.#fullJid = jid;
  }

  #nextStreamFrame(): Promise<string> {
    const queued = this.#streamFrames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#error !== undefined) return Promise.resolve('');
    return new Promise((resolve) => { this.#streamWaiter = resolve; });
  }

  /** Skips our <open/> echo; the next frame must start with `prefix`. */
  async #expectStream(prefix: string, what: string): Promise<void> {
    for (;;) {
      const frame = await this.#nextStreamFrame();
      if (frame.startsWith('<open')) continue;
      if (frame.startsWith(prefix)) return;
      throw new Error(`${what} for ${this.#options.user}: ${frame.slice(0, 200) || 'stream closed'}`);
    }
  }

  /** Sends an IQ set with a fresh id; resolves with the result, rejects on an error answer. */
  #request(build: (id: string) => string): Promise<string> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const id = `i${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      this.#iqs.set(id, (frame) => {
        if (firstTagAttr(frame, 'type') === 'result') resolve(frame);
        else reject(new Error(`IQ ${id}: ${frame.slice(0, 300)}`));
      });
      this.#send(build(id));
    });
  }

  /** The server's Jingle set `action` for `sid`; a session-terminate for that sid instead rejects. */
  #awaitJingle(action: string, sid: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#jingle.set(`${action} ${sid}`, (frame) => { this.#jingle.delete(`session-terminate ${sid}`); resolve(frame); });
      this.#jingle.set(`session-terminate ${sid}`, (frame) => {
        this.#jingle.delete(`${action} ${sid}`);
        this.#send(iqResult(firstTagAttr(frame, 'id'), firstTagAttr(frame, 'from')));
        reject(new Error(`call ${sid} terminated: ${frame.slice(0, 300)}`));
      });
    });
  }

  #send(text: string): void {
    this.frames++;
    this.#ws.send(text);
  }

  #receive(frame: string): void {
    this.frames++;
    if (frame.startsWith('<iq')) return this.#onIq(frame);
    if (frame.startsWith('<message')) {
      const waiter = this.#chats.get(`${firstTagAttr(frame, 'from').split('/')[0] ?? ''} ${bodyText(frame)}`);
      if (waiter !== undefined) {
        this.#chats.delete(`${firstTagAttr(frame, 'from').split('/')[0] ?? ''} ${bodyText(frame)}`);
        waiter();
      }
      return;
    }
    if (frame.startsWith('<presence')) return;
    const waiter = this.#streamWaiter;
    this.#streamWaiter = undefined;
    if (waiter !== undefined) waiter(frame);
    else if (this.#fullJid === '') this.#streamFrames.push(frame);
  }

  #onIq(frame: string): void {
    const type = firstTagAttr(frame, 'type');
    const id = firstTagAttr(frame, 'id');
    if (type === 'result' || type === 'error') {
      const waiter = this.#iqs.get(id);
      this.#iqs.delete(id);
      waiter?.(frame);
      return;
    }
    if (type !== 'set' || !frame.includes('<jingle')) {
      // Anything else the server asks (disco#info after presence: we send none) is answered empty.
      this.#send(iqResult(id, firstTagAttr(frame, 'from')));
      return;
    }
    const from = firstTagAttr(frame, 'from');
    const action = anyAttr(frame, 'action');
    const sid = anyAttr(frame, 'sid');
    const waiter = this.#jingle.get(`${action} ${sid}`);
    if (waiter !== undefined) {
      this.#jingle.delete(`${action} ${sid}`);
      waiter(frame); // the caller acknowledges it
      return;
    }
    this.#send(iqResult(id, from));
    if (action === 'session-initiate') {
      // The callee accepts at once (as the jsonrpc bench's callee answers call.incoming at once).
      this.#request((requestId) => sessionAccept(requestId, from, sid, this.#fullJid)).catch(() => undefined);
    } else if (action === 'session-terminate') {
      const ended = this.#onCallEnded;
      this.#onCallEnded = undefined;
      ended?.();
    }
  }
}
