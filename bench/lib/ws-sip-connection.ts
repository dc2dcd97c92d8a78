/**
 * One SIP-over-WebSocket connection of the load generator (RFC 7118): a raw `ws` client that
 * offers the "sip" subprotocol (§4.1), sends one SIP message per text frame (§5.1) and matches
 * responses to the request that caused them by the top Via branch (RFC 3261 §17.1.3). No
 * transaction timers: the transport is reliable and on loopback, so a request simply waits for
 * its final response up to a deadline.
 */
import WebSocket from 'ws';
import { readWireMessage, topBranch, type WireMessage } from './sip-wire.js';

/** BENCH_SIP_TRACE=1 prints every frame (debugging a target; never during a measured run). */
const TRACE = process.env['BENCH_SIP_TRACE'] === '1';

interface Pending {
  readonly resolve: (response: WireMessage) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class WsSipConnection {
  readonly #socket: WebSocket;
  readonly #pending = new Map<string, Pending>();
  #onRequest: (request: WireMessage) => void = () => undefined;
  #onStrayResponse: (response: WireMessage) => void = () => undefined;
  #closed = false;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const text = isBinary || !Buffer.isBuffer(data) ? Buffer.from(data as Buffer).toString('utf8') : data.toString('utf8');
      if (text.trim().length === 0) return; // RFC 5626 §4.4.1 CRLF keep-alive
      if (TRACE) process.stderr.write(`<<<<<\n${text}\n`);
      this.#receive(readWireMessage(text));
    });
    socket.on('close', () => this.#fail(new Error('WebSocket closed')));
    socket.on('error', (error: Error) => this.#fail(error));
  }

  /** Opens ws(s)://... with the "sip" subprotocol; rejects if the server does not echo it. */
  static open(url: string, timeoutMs = 10_000, localAddress?: string): Promise<WsSipConnection> {
    return new Promise((resolve, reject) => {
      // `localAddress`: the source IP (e.g. 127.0.0.2, another loopback address: another client host).
      const socket = new WebSocket(url, 'sip', { perMessageDeflate: false, handshakeTimeout: timeoutMs, ...(localAddress !== undefined ? { localAddress } : {}) });
      const fail = (error: Error): void => { socket.removeAllListeners(); socket.terminate(); reject(error); };
      socket.once('error', fail);
      socket.once('open', () => {
        socket.off('error', fail);
        if (socket.protocol !== 'sip') { fail(new Error(`server chose subprotocol "${socket.protocol}", not "sip"`)); return; }
        resolve(new WsSipConnection(socket));
      });
    });
  }

  /** Where requests that the server sends to this client (INVITE, BYE...) go. */
  set onRequest(handler: (request: WireMessage) => void) {
    this.#onRequest = handler;
  }

  /** Final responses that match no pending request (a retransmitted 2xx to INVITE). */
  set onStrayResponse(handler: (response: WireMessage) => void) {
    this.#onStrayResponse = handler;
  }

  /** Bytes queued in the socket, not yet written (a flooder keeps it filled). */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /** Resolves when the WebSocket has closed (by either side), with the close code. */
  closed(): Promise<number> {
    if (this.#socket.readyState === WebSocket.CLOSED) return Promise.resolve(1006);
    return new Promise((resolve) => this.#socket.once('close', (code: number) => resolve(code)));
  }

  get open(): boolean {
    return !this.#closed && this.#socket.readyState === WebSocket.OPEN;
  }

  /** Sends a message that expects no response (ACK, a response). */
  send(text: string): void {
    if (!this.open) throw new Error('WebSocket is not open');
    if (TRACE) process.stderr.write(`>>>>>\n${text}\n`);
    this.#socket.send(text);
  }

  /** Sends a request whose top Via has `branch` and resolves with its final response (≥ 200). */
  request(text: string, branch: string, timeoutMs = 10_000): Promise<WireMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(branch);
        reject(new Error(`no final response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(branch, { resolve, reject, timer });
      try {
        this.send(text);
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(branch);
        reject(error as Error);
      }
    });
  }

  close(): void {
    this.#closed = true;
    this.#socket.terminate();
    this.#fail(new Error('closed by the generator'));
  }

  #receive(message: WireMessage): void {
    if (message.status === 0) {
      this.#onRequest(message);
      return;
    }
    if (message.status < 200) return; // provisional: keep waiting
    const branch = topBranch(message);
    const pending = branch === undefined ? undefined : this.#pending.get(branch);
    if (pending === undefined || branch === undefined) {
      this.#onStrayResponse(message);
      return;
    }
    this.#pending.delete(branch);
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  #fail(error: Error): void {
    this.#closed = true;
    for (const [branch, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(branch);
      pending.reject(error);
    }
  }
}
