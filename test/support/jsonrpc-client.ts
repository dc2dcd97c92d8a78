/**
 * A JSON-RPC 2.0 client over one WebSocket (the json-rpc-2.0 package's client, as a web
 * developer's app would use it) that keeps the server's notifications for the tests to wait on.
 */
import { JSONRPCClient, type JSONRPCRequest } from 'json-rpc-2.0';
import WebSocket from 'ws';

/** plugins/jsonrpc-ws's subprotocol (R-JR-1). */
export const SUBPROTOCOL = 'epcscf.jsonrpc.v1';

/** A JSON-RPC 2.0 client over one WebSocket, keeping the server's notifications. */
export class RpcWsClient {
  readonly ws: WebSocket;
  readonly rpc: JSONRPCClient;
  readonly notifications: JSONRPCRequest[] = [];
  readonly raw: unknown[] = [];
  #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.rpc = new JSONRPCClient(async (request) => { ws.send(JSON.stringify(request)); });
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      this.raw.push(message);
      if (typeof message['method'] === 'string' && message['id'] === undefined) this.notifications.push(message as unknown as JSONRPCRequest);
      else this.rpc.receive(message as never);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async connect(url: string): Promise<RpcWsClient> {
    const ws = new WebSocket(url, SUBPROTOCOL);
    await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    return new RpcWsClient(ws);
  }

  request(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.rpc.timeout(10_000).request(method, params ?? {}) as Promise<Record<string, unknown>>;
  }

  /** The first notification matching, waiting up to `ms`. */
  async notification(method: string, match: (params: Record<string, unknown>) => boolean = () => true, ms = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.notifications.find((n) => n.method === method && match(n.params as Record<string, unknown>));
      if (found) return found.params as Record<string, unknown>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${method} notification within ${ms} ms; got ${JSON.stringify(this.notifications.map((n) => n.method))}`);
      await new Promise<void>((resolve) => { const timer = setTimeout(resolve, left); this.#waiters.push(() => { clearTimeout(timer); resolve(); }); });
    }
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => { this.ws.once('close', () => resolve()); this.ws.close(); });
  }
}

