/**
 * One web client of plugins/jsonrpc-ws for load generation: registers with IMPU + password
 * (scenario 1, digest done by core/ua), calls as caller (call.invite → call.answered →
 * call.hangup → call.ended) and answers as callee (call.incoming → call.answer at once, then
 * call.ended when the caller hangs up). Method and notification names as plugins/jsonrpc-ws
 * README.md and schemas/openrpc.json define them.
 */
import { RpcConnection, type JsonObject } from './rpc-connection.js';

/** A plain RTP/AVP audio offer/answer (RFC 4566): media mode is off, so the SDP passes untouched. */
export const PLAIN_SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');

export interface RpcUserOptions {
  readonly url: string;
  /** sip:user@domain */
  readonly impu: string;
  readonly password: string;
  /** Bound on one operation (register + unregister, or a whole call). */
  readonly timeoutMs: number;
}

/** What one side learnt about a call, by the plugin's callId. */
interface CallRecord {
  answered: boolean;
  ended?: JsonObject;
  wake?: (() => void) | undefined;
}

export class RpcUser {
  readonly impu: string;
  readonly #options: RpcUserOptions;
  readonly #rpc: RpcConnection;
  /** Caller: calls placed here, by callId. */
  readonly #calls = new Map<string, CallRecord>();
  /** Callee: calls offered here (call.incoming) and not yet ended. */
  readonly #incoming = new Set<string>();
  /** Callee: calls that ended here (call.ended), and who waits for a count. */
  #endedCount = 0;
  #endedWaiters: { count: number; wake: () => void }[] = [];
  /** Callee: the first call.answer that failed (the caller then sees its call fail or time out). */
  answerError: string | undefined;

  private constructor(rpc: RpcConnection, options: RpcUserOptions) {
    this.#rpc = rpc;
    this.#options = options;
    this.impu = options.impu;
    rpc.onNotification((method, params) => this.#notified(method, params));
  }

  static async connect(options: RpcUserOptions): Promise<RpcUser> {
    return new RpcUser(await RpcConnection.connect(options.url, options.timeoutMs), options);
  }

  get connected(): boolean {
    return this.#rpc.open;
  }

  get frames(): number {
    return this.#rpc.framesSent + this.#rpc.framesReceived;
  }

  get endedCount(): number {
    return this.#endedCount;
  }

  /** session.register; resolves once the IMS answered 200 (the result says 'registered'). */
  async register(): Promise<void> {
    const result = await this.#bounded('session.register', this.#rpc.request('session.register', { impu: this.impu, password: this.#options.password }));
    if (result['state'] !== 'registered') throw new Error(`session.register: ${String(result['state'])} ${String(result['sipStatus'] ?? '')} ${String(result['reason'] ?? '')}`);
  }

  /** session.unregister (REGISTER Expires: 0 through the core, R-REG-24). */
  async unregister(): Promise<void> {
    const result = await this.#bounded('session.unregister', this.#rpc.request('session.unregister'));
    if (result['state'] !== 'unregistered') throw new Error(`session.unregister: ${String(result['state'])}`);
  }

  /**
   * Caller side of one call: call.invite with a plain offer, wait for call.answered, call.hangup,
   * and resolve when the callee has seen its call.ended too (the whole call is one operation).
   */
  async call(callee: RpcUser): Promise<void> {
    const endedAtCallee = callee.#untilEnded(callee.#endedCount + 1);
    const work = async (): Promise<void> => {
      const invited = await this.#rpc.request('call.invite', { to: callee.impu, sdp: PLAIN_SDP });
      const callId = String(invited['callId']);
      const record = this.#record(callId);
      await this.#until(record, () => record.answered || record.ended !== undefined);
      if (!record.answered) {
        this.#calls.delete(callId);
        throw new Error(`call failed before answer: ${JSON.stringify(record.ended)}`);
      }
      await this.#rpc.request('call.hangup', { callId });
      await this.#until(record, () => record.ended !== undefined);
      this.#calls.delete(callId);
      await endedAtCallee;
    };
    await this.#bounded('call', work());
  }

  close(): void {
    this.#rpc.close();
  }

  #record(callId: string): CallRecord {
    let record = this.#calls.get(callId);
    if (record === undefined) {
      record = { answered: false };
      this.#calls.set(callId, record);
    }
    return record;
  }

  #until(record: CallRecord, done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      record.wake = () => { if (done()) { record.wake = undefined; resolve(); } };
    });
  }

  #untilEnded(count: number): Promise<void> {
    if (this.#endedCount >= count) return Promise.resolve();
    return new Promise((wake) => this.#endedWaiters.push({ count, wake }));
  }

  #notified(method: string, params: JsonObject): void {
    const callId = typeof params['callId'] === 'string' ? params['callId'] : undefined;
    if (callId === undefined) return; // session.registration, session.error: not needed by the loop
    switch (method) {
      case 'call.incoming':
        // Callee: answer at once with a plain answer (no call.ring: the call is about signalling cost).
        this.#incoming.add(callId);
        this.#rpc.request('call.answer', { callId, sdp: PLAIN_SDP }).catch((error: Error) => { this.answerError ??= error.message; });
        return;
      case 'call.answered': {
        if (this.#incoming.has(callId)) return; // callee: the caller's ACK arrived
        // Caller: kept even before the call.invite result names the call (ordering is not promised).
        const record = this.#record(callId);
        record.answered = true;
        record.wake?.();
        return;
      }
      case 'call.ended': {
        if (this.#incoming.delete(callId)) {
          this.#endedCount++;
          const waiting = this.#endedWaiters;
          this.#endedWaiters = waiting.filter((w) => w.count > this.#endedCount);
          for (const w of waiting) if (w.count <= this.#endedCount) w.wake();
          return;
        }
        const record = this.#record(callId);
        record.ended = params;
        record.wake?.();
        return;
      }
      default:
        return; // call.progress...: not needed by the loop
    }
  }

  #bounded<T>(what: string, work: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no outcome within ${this.#options.timeoutMs} ms`)), this.#options.timeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}
