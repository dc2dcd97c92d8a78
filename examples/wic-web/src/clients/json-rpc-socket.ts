/**
 * A tiny JSON-RPC 2.0 client over the browser's WebSocket (subprotocol epcscf.jsonrpc.v1,
 * plugins/jsonrpc-ws): requests by id, notifications to one handler. No library: the
 * protocol is twenty lines.
 */
import { describeSipStatus } from '../sip-status-words.js';
import { WicError } from '../w2-client.js';

export interface RpcFailure { readonly code: number; readonly message: string; readonly data?: Record<string, unknown> }

export class RpcError extends WicError {
  constructor(readonly method: string, readonly failure: RpcFailure) {
    super(describeRpcError(failure));
  }
}

type Params = Record<string, unknown>;

export class JsonRpcSocket {
  private nextId = 1;
  private readonly pending = new Map<number, { method: string; resolve(result: unknown): void; reject(error: Error): void }>();

  private constructor(private readonly ws: WebSocket, private readonly onNotification: (method: string, params: Params) => void, onClose: (code: number, reason: string) => void) {
    ws.addEventListener('message', (event) => this.onMessage(String(event.data)));
    ws.addEventListener('close', (event) => {
      for (const call of this.pending.values()) call.reject(new WicError(`The connection closed before ${call.method} was answered.`));
      this.pending.clear();
      onClose(event.code, event.reason);
    });
  }

  static open(url: string, onNotification: (method: string, params: Params) => void, onClose: (code: number, reason: string) => void): Promise<JsonRpcSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'epcscf.jsonrpc.v1');
      ws.addEventListener('open', () => resolve(new JsonRpcSocket(ws, onNotification, onClose)), { once: true });
      ws.addEventListener('error', () => reject(new WicError(`Could not connect to ${url}: the eP-CSCF is not reachable.`)), { once: true });
    });
  }

  request<T>(method: string, params: Params = {}): Promise<T> {
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.reject(new WicError('Not connected to the eP-CSCF.'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve: (result) => resolve(result as T), reject });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.ws.close(1000, 'signed out');
  }

  private onMessage(text: string): void {
    let data: unknown;
    try { data = JSON.parse(text); } catch { return; }
    for (const message of Array.isArray(data) ? data : [data]) {
      if (typeof message !== 'object' || message === null) continue;
      const m = message as { id?: number; method?: string; params?: Params; result?: unknown; error?: RpcFailure };
      if (typeof m.method === 'string') { this.onNotification(m.method, m.params ?? {}); continue; }
      const call = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
      if (call === undefined || m.id === undefined) continue;
      this.pending.delete(m.id);
      if (m.error !== undefined) call.reject(new RpcError(call.method, m.error));
      else call.resolve(m.result);
    }
  }
}

function describeRpcError(failure: RpcFailure): string {
  const data = failure.data ?? {};
  const reason = typeof data['reason'] === 'string' ? data['reason'] : undefined;
  const status = typeof data['sipStatus'] === 'number' ? data['sipStatus'] : undefined;
  if (reason !== undefined) return `Refused: ${status !== undefined ? describeSipStatus(status, reason, 'call') : reason}`;
  const hint = typeof data['hint'] === 'string' ? ` — ${data['hint']}` : '';
  return `${failure.message}${hint}`;
}
