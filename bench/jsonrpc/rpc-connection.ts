/**
 * A lean JSON-RPC 2.0 client over one raw `ws` WebSocket, for load generation: requests carry
 * numeric ids and resolve with `result` (or reject with the `error` object), notifications go
 * to one listener. No json-rpc-2.0 client object, no per-request timer (the caller bounds the
 * whole operation), so the generator costs little per message.
 * JSON-RPC 2.0 §4: a request has an id and is answered once; §4.1: a message without an id is a
 * notification. plugins/jsonrpc-ws requires the subprotocol `epcscf.jsonrpc.v1` (R-JR-1).
 */
import WebSocket from 'ws';

export const JSONRPC_SUBPROTOCOL = 'epcscf.jsonrpc.v1';

export type JsonObject = Record<string, unknown>;

/** A JSON-RPC error answer (JSON-RPC 2.0 §5.1), thrown by `request`. */
export class RpcErrorAnswer extends Error {
  constructor(readonly method: string, readonly code: number, message: string, readonly data?: unknown) {
    super(`${method}: JSON-RPC error ${code} ${message}${data !== undefined ? ` ${JSON.stringify(data)}` : ''}`);
    this.name = 'RpcErrorAnswer';
  }
}

interface Pending {
  readonly method: string;
  resolve(result: JsonObject): void;
  reject(error: Error): void;
}

export type NotificationListener = (method: string, params: JsonObject) => void;

export class RpcConnection {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #onNotification: NotificationListener = () => undefined;
  /** WebSocket frames sent and received (one JSON-RPC message each: the bench sends no batches). */
  framesSent = 0;
  framesReceived = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => this.#receive(String(data)));
    ws.on('close', () => this.#failAll(new Error('WebSocket closed')));
  }

  static connect(url: string, timeoutMs = 5000): Promise<RpcConnection> {
    // perMessageDeflate off: browsers negotiate it, but the server has it off (bench like sip-ws).
    const ws = new WebSocket(url, JSONRPC_SUBPROTOCOL, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { ws.terminate(); reject(new Error(`connecting ${url}: no open within ${timeoutMs} ms`)); }, timeoutMs);
      ws.once('open', () => { clearTimeout(timer); resolve(new RpcConnection(ws)); });
      ws.once('error', (error) => { clearTimeout(timer); reject(error); });
    });
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  onNotification(listener: NotificationListener): void {
    this.#onNotification = listener;
  }

  request(method: string, params: JsonObject = {}): Promise<JsonObject> {
    if (!this.open) return Promise.reject(new Error(`${method}: WebSocket not open`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject });
      this.framesSent++;
      this.#ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.#ws.terminate();
  }

  #receive(text: string): void {
    this.framesReceived++;
    let message: JsonObject;
    try {
      message = JSON.parse(text) as JsonObject;
    } catch {
      return; // the server never sends invalid JSON; nothing to route it to
    }
    const id = message['id'];
    if (typeof id !== 'number') {
      if (typeof message['method'] === 'string') this.#onNotification(message['method'], (message['params'] ?? {}) as JsonObject);
      return;
    }
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    const error = message['error'] as { code?: number; message?: string; data?: unknown } | undefined;
    if (error !== undefined) pending.reject(new RpcErrorAnswer(pending.method, error.code ?? 0, error.message ?? '', error.data));
    else pending.resolve((message['result'] ?? {}) as JsonObject);
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(new Error(`${pending.method}: ${error.message}`));
    this.#pending.clear();
  }
}
