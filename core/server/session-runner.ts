/**
 * Runs one plugin session over one WebSocket, with the guarantees the contract promises
 * (core/plugin/session.ts): frames delivered one at a time in order; a hook that throws or
 * rejects is a plugin fault that closes only this connection with 1011 (RFC 6455 §7.4.1) and
 * is reported; onClose called exactly once, after the in-flight hook, whatever ends the
 * session; nothing of the session is called after onClose.
 */
import type { RawData, WebSocket } from 'ws';
import type { W2RefusalReason } from '../contract/host.js';
import type { W2Route } from '../plugin/loader.js';
import type { SessionCloseReason, W2Frame, W2Session } from '../contract/session.js';
import { validateSessionShape } from '../plugin/validate-plugin.js';
import type { FirstFrameDeadline, FirstFrameTarget } from './first-frame-deadline.js';
import type { KeepaliveMonitor, KeepaliveTarget } from './keepalive.js';
import { WebSocketW2Connection } from './w2-connection.js';
import type { ReadThrottle } from './read-throttle.js';

/** What every session of one server shares (one object per server, not per connection). */
export interface SessionRunnerEnvironment {
  readonly keepalive: KeepaliveMonitor;
  readonly firstFrame: FirstFrameDeadline;
  /** How long onClose waits for a hung in-flight hook before it runs anyway. */
  readonly closeWaitMs: number;
  /**
   * How long a close we start waits for the client's close frame before the TCP connection is
   * dropped (RFC 6455 §7.1.1 lets the server close TCP; ws alone would wait 30 s, and a flooder
   * whose socket is paused behind its backlog is never read again).
   */
  readonly closeTimeoutMs: number;
  /** Issue 15: bytes/s per connection and frames/s per source IP; over budget, the socket is not read for a while. */
  readonly readThrottle?: ReadThrottle;
  /** A guard cut this session off (counted in /metrics). */
  readonly onRefused?: (runner: W2SessionRunner, reason: W2RefusalReason) => void;
  readonly onFault: (runner: W2SessionRunner, hook: string, error: unknown) => void;
  readonly onEnded: (runner: W2SessionRunner, reason: SessionCloseReason) => void;
  /** The session object is ready (after openSession and its shape check). */
  readonly onOpened?: (runner: W2SessionRunner, session: W2Session) => void;
}

/** The facts of one connection. */
export interface SessionRunnerInit {
  readonly socket: WebSocket;
  readonly route: W2Route;
  readonly id: string;
  readonly subprotocol: string;
  readonly remote: { readonly address: string; readonly port: number };
  readonly origin: string | undefined;
  readonly secure: boolean;
  readonly env: SessionRunnerEnvironment;
}

/** The runner of a socket: the socket listeners below are shared functions, not closures per connection. */
const RUNNER = Symbol('w2-session-runner');
type RunnerSocket = WebSocket & { [RUNNER]?: W2SessionRunner };

function onSocketMessage(this: RunnerSocket, data: RawData, isBinary: boolean): void {
  this[RUNNER]?.receive(data, isBinary);
}

function onSocketPong(this: RunnerSocket): void {
  const runner = this[RUNNER];
  if (runner !== undefined) runner.env.keepalive.seen(runner);
}

function onSocketError(this: RunnerSocket, error: Error & { code?: string }): void {
  // ws has already sent the close frame for protocol errors (1002, 1007, 1009).
  if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this[RUNNER]?.socketEnded({ cause: 'frame-limit', code: 1009, reason: 'message too big' });
}

function onSocketClose(this: RunnerSocket, code: number, reason: Buffer): void {
  this[RUNNER]?.socketEnded({ cause: 'remote', code, reason: reason.toString('utf8') });
}

/** The close-handshake deadline passed: drop the TCP connection (a shared function, no closure per close). */
function dropIfNotClosed(socket: WebSocket): void {
  if (socket.readyState !== socket.CLOSED) socket.terminate();
}

const PAUSE_AT = 64;
const RESUME_AT = 16;

/** What happens on the wire when the session ends for a local reason. */
type WireAction = 'close' | 'terminate' | 'none';

export class W2SessionRunner implements KeepaliveTarget, FirstFrameTarget {
  readonly connection: WebSocketW2Connection;
  readonly route: W2Route;
  readonly env: SessionRunnerEnvironment;
  /** Epoch ms of the upgrade. */
  readonly openedAt = Date.now();
  readonly #socket: RunnerSocket;
  #session: W2Session | undefined;
  /** Serialises openSession, every onFrame and finally onClose. */
  /** openSession and its shape check. */
  #opened: Promise<void> = Promise.resolve();
  /** The work in flight: openSession, then the drain that delivers frames (what onClose waits for). */
  #chain: Promise<void> = Promise.resolve();
  /** A drain is delivering frames; new ones queue behind it. */
  #draining = false;
  /** Frames waiting behind the one in flight (created on the first wait: an idle session has none). */
  #queue: W2Frame[] | undefined;
  #closeReason: SessionCloseReason | undefined;
  #ended: Promise<void> | undefined;
  /** Frames received but not yet handled; past a high-water mark the socket stops reading. */
  #pending = 0;
  /** The client sent its first message (the first-frame deadline no longer applies). */
  #spoke = false;
  /** Not read because the plugin is behind (PAUSE_AT) ... */
  #backpressured = false;
  /** Messages wait for the read budget (read-throttle.ts); counted once per episode. */
  #throttled = false;

  constructor(init: SessionRunnerInit) {
    this.env = init.env;
    this.#socket = init.socket;
    this.route = init.route;
    this.connection = new WebSocketW2Connection(init.socket, {
      id: init.id,
      subprotocol: init.subprotocol,
      path: init.route.path,
      remote: init.remote,
      origin: init.origin,
      secure: init.secure,
      onPluginClose: (code, reason) => this.#end({ cause: 'plugin', code, reason }, 'close'),
    });
  }

  get pluginName(): string {
    return this.route.plugin.name;
  }

  /** Set once the session has ended (first cause wins). */
  get closeReason(): SessionCloseReason | undefined {
    return this.#closeReason;
  }

  start(): void {
    const socket = this.#socket;
    socket[RUNNER] = this;
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    this.env.keepalive.add(this);
    this.env.firstFrame.add(this);
    const plugin = this.route.plugin;
    // host.sip acts for this connection from openSession until onClose returned.
    plugin.sessions.add(this.connection.id);
    this.#chain = this.#opened = (async () => {
      try {
        const session = await plugin.instance.openSession(this.connection);
        this.#session = validateSessionShape(session, plugin.name);
        this.env.onOpened?.(this, this.#session);
      } catch (error) {
        this.#fault('openSession', error);
      }
    })();
  }

  /** An operator closes the session: the client gets `code`/`reason`, the plugin its onClose. */
  closeFromServer(code: number, reason: string): Promise<void> {
    return this.#end({ cause: 'operator', code, reason }, 'close');
  }

  /** Server shutdown: close with 1001 (RFC 6455 §7.4.1 "going away") and resolve after onClose. */
  shutdown(): Promise<void> {
    return this.#end({ cause: 'shutdown', code: 1001, reason: 'server shutdown' }, 'close');
  }

  describe(): Record<string, unknown> | undefined {
    if (this.#session?.describe === undefined || this.#closeReason !== undefined) return undefined;
    try {
      return this.#session.describe();
    } catch (error) {
      this.#fault('describe', error);
      return undefined;
    }
  }

  // KeepaliveTarget
  ping(): void {
    this.#socket.ping();
  }

  onDead(): void {
    void this.#end({ cause: 'keepalive', code: 1006, reason: 'no pong' }, 'terminate');
  }

  // FirstFrameTarget
  onFirstFrameTimeout(): void {
    if (this.#closeReason !== undefined) return;
    this.env.onRefused?.(this, 'first_frame_timeout');
    // RFC 6455 §7.4.1: 1008, the connection broke the server's policy (speak within the deadline).
    void this.#end({ cause: 'deadline', code: 1008, reason: 'no message in time' }, 'close');
  }

  /** The socket ended on its own (closed by the peer, or a framing error ws already answered). */
  socketEnded(reason: SessionCloseReason): void {
    void this.#end(reason, 'none');
  }

  /** One WebSocket message from the peer. */
  receive(data: RawData, isBinary: boolean): void {
    this.env.keepalive.seen(this);
    if (this.#closeReason !== undefined) return;
    if (!this.#spoke) {
      this.#spoke = true;
      this.env.firstFrame.remove(this);
    }
    const bytes = toBuffer(data);
    if (bytes.length > this.route.maxFrameBytes) {
      // RFC 6455 §7.4.1: 1009, a message too big to process.
      void this.#end({ cause: 'frame-limit', code: 1009, reason: 'message too big' }, 'close');
      return;
    }
    const frame: W2Frame = isBinary ? bytes : bytes.toString('utf8');
    // Backpressure: a client faster than its plugin is slowed down by TCP, not buffered here.
    if (++this.#pending === PAUSE_AT) {
      this.#backpressured = true;
      this.#socket.pause();
    }
    if (this.#draining) (this.#queue ??= []).push(frame);
    else this.#chain = this.#drain(frame);
  }

  /** Delivers `first` and then every frame queued meanwhile, one at a time, in order. */
  async #drain(first: W2Frame): Promise<void> {
    this.#draining = true;
    await this.#opened;
    let frame: W2Frame | undefined = first;
    while (frame !== undefined) {
      const wait = this.#overBudget(frame);
      if (wait !== undefined) await wait;
      await this.#deliver(frame);
      if (--this.#pending === RESUME_AT && this.#backpressured) {
        this.#backpressured = false;
        if (this.#closeReason === undefined) this.#socket.resume();
      }
      frame = this.#queue?.shift();
    }
    this.#draining = false;
  }

  /**
   * Issue 15 read budgets (read-throttle.ts), charged as each message is delivered: over budget,
   * the socket stops being read and the message waits until its tokens are there; messages
   * already read wait behind it. Undefined (no await) when within budget.
   */
  #overBudget(frame: W2Frame): Promise<void> | undefined {
    const throttle = this.env.readThrottle;
    if (throttle === undefined || this.#closeReason !== undefined) return undefined;
    const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    const over = throttle.charge(this.connection.id, this.connection.remote.address, bytes);
    if (over === undefined) {
      this.#throttled = false;
      return undefined;
    }
    if (!this.#throttled) {
      // Counted once per episode: from the first wait until a message goes without one.
      this.#throttled = true;
      this.env.onRefused?.(this, over.reason);
    }
    this.#socket.pause();
    return new Promise<void>((resolve) => setTimeout(resolve, over.pauseMs)).then(() => {
      if (this.#closeReason === undefined && !this.#backpressured) this.#socket.resume();
    });
  }

  async #deliver(frame: W2Frame): Promise<void> {
    const session = this.#session;
    if (session === undefined || this.#closeReason !== undefined) return;
    try {
      await session.onFrame(frame);
    } catch (error) {
      this.#fault('onFrame', error);
    }
  }

  #fault(hook: string, error: unknown): void {
    this.env.onFault(this, hook, error);
    void this.#end({ cause: 'fault', code: 1011, reason: 'plugin error' }, 'close');
  }

  #end(reason: SessionCloseReason, wire: WireAction): Promise<void> {
    if (this.#ended !== undefined) return this.#ended;
    this.#closeReason = reason;
    this.env.keepalive.remove(this);
    this.env.firstFrame.remove(this);
    this.#applyWire(reason, wire);
    const inFlight = this.#chain;
    this.#ended = (async () => {
      await settleWithin(inFlight, this.env.closeWaitMs);
      const session = this.#session;
      if (session !== undefined) {
        try {
          await session.onClose(reason);
        } catch (error) {
          this.env.onFault(this, 'onClose', error);
        }
      }
      this.route.plugin.sessions.delete(this.connection.id);
      this.env.onEnded(this, reason);
    })();
    return this.#ended;
  }

  #applyWire(reason: SessionCloseReason, wire: WireAction): void {
    const socket = this.#socket;
    if (wire === 'none' || socket.readyState === socket.CLOSED) return;
    if (wire === 'terminate') {
      socket.terminate();
      return;
    }
    try {
      socket.close(reason.code, reason.reason);
      setTimeout(dropIfNotClosed, this.env.closeTimeoutMs, socket).unref();
    } catch {
      // A plugin passed a code RFC 6455 §7.4.2 forbids on the wire (e.g. 1006): drop the TCP connection.
      socket.terminate();
    }
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); }),
  ]);
  clearTimeout(timer);
}
