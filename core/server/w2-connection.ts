/** The W2Connection a plugin sees, over one `ws` WebSocket. */
import type { WebSocket } from 'ws';
import { EpcError } from '../errors.js';
import type { W2Connection, W2Frame } from '../contract/session.js';

/** What the connection says of itself (the W2Connection facts), plus where plugin closes go. */
export interface W2ConnectionInit extends Omit<W2Connection, 'send' | 'close'> {
  /** Where a plugin-initiated close is reported (the session runner). */
  readonly onPluginClose: (code: number, reason: string) => void;
}

export class WebSocketW2Connection implements W2Connection {
  readonly id: string;
  readonly subprotocol: string;
  readonly path: string;
  readonly remote: { readonly address: string; readonly port: number };
  readonly origin: string | undefined;
  readonly secure: boolean;
  readonly #socket: WebSocket;
  readonly #onPluginClose: (code: number, reason: string) => void;

  constructor(socket: WebSocket, init: W2ConnectionInit) {
    this.#socket = socket;
    this.id = init.id;
    this.subprotocol = init.subprotocol;
    this.path = init.path;
    this.remote = init.remote;
    this.origin = init.origin;
    this.secure = init.secure;
    this.#onPluginClose = init.onPluginClose;
  }

  send(frame: W2Frame): Promise<void> {
    if (this.#socket.readyState !== this.#socket.OPEN) {
      return Promise.reject(new EpcError('EPC_ERR_INVALID_STATE', `W2 connection ${this.id} is closed`));
    }
    // RFC 6455 §5.6: a string goes as a text frame, bytes as a binary frame.
    const binary = typeof frame !== 'string';
    return new Promise((resolve, reject) => {
      this.#socket.send(frame, { binary }, (error) => {
        if (error) reject(new EpcError('EPC_ERR_INVALID_STATE', `W2 connection ${this.id}: send failed: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  close(code = 1000, reason = ''): void {
    this.#onPluginClose(code, reason);
  }
}
