import type { Socket } from 'node:net';
import { EpcError } from '../../errors.js';
import { StreamFramer } from './stream-framer.js';
import { transportError } from './transport-base.js';
import type { SipSource, TransportProtocol } from './types.js';

let nextConnectionNumber = 1;

/** Process-unique connection ids (`tcp-7`), used in SipSource/SipTarget and flow tokens. */
export function newConnectionId(protocol: TransportProtocol): string {
  return `${protocol}-${nextConnectionNumber++}`;
}

export interface StreamConnectionHooks {
  readonly protocol: TransportProtocol;
  readonly maxMessageSize: number;
  readonly idleTimeoutMs: number;
  onMessage(bytes: Buffer, connection: StreamConnection): void;
  /**
   * A complete header section declared a message past the size cap: the answer to send before
   * the connection closes (RFC 3261 §21.5.14: 513), or undefined to close without one.
   */
  answerOversized?(header: Buffer, limit: number): Buffer | undefined;
  /** Framing lost or message too large: the connection is already being destroyed. */
  onFramingError(error: EpcError, source: SipSource): void;
  onClose(connection: StreamConnection): void;
}

/**
 * One TCP or TLS connection: frames inbound bytes, answers RFC 5626 keep-alive pings, closes
 * itself after `idleTimeoutMs` without traffic, and serialises nothing itself (writes are
 * whole messages, so the stream stays framed).
 */
export class StreamConnection {
  readonly id: string;
  readonly socket: Socket;
  readonly outbound: boolean;
  /** Resolves once the connection (and TLS handshake) is up; rejects with EPC_ERR_SIP_TRANSPORT. */
  readonly ready: Promise<void>;
  readonly #hooks: StreamConnectionHooks;
  readonly #framer: StreamFramer;
  #closed = false;
  /** A 513 was queued for the peer: close gracefully so it is delivered. */
  #answered = false;
  #source: SipSource | undefined;

  constructor(socket: Socket, hooks: StreamConnectionHooks, ready: Promise<void> | undefined) {
    this.id = newConnectionId(hooks.protocol);
    this.socket = socket;
    this.outbound = ready !== undefined;
    this.#hooks = hooks;
    this.ready = ready ?? Promise.resolve();
    // A rejected `ready` that nobody awaits must not become an unhandled rejection.
    this.ready.catch(() => {});
    this.#framer = new StreamFramer({
      maxMessageSize: hooks.maxMessageSize,
      onMessage: (bytes) => hooks.onMessage(bytes, this),
      // RFC 5626 §3.5.1: answer a CRLFCRLF ping with a single CRLF pong.
      onPing: () => { if (!this.#closed) socket.write('\r\n'); },
      onOversized: (header) => {
        const answer = hooks.answerOversized?.(header, hooks.maxMessageSize);
        if (answer && !this.#closed) { socket.write(answer); this.#answered = true; }
      },
    });
    socket.setNoDelay(true);
    if (hooks.idleTimeoutMs > 0) {
      socket.setTimeout(hooks.idleTimeoutMs, () => this.close());
    }
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.#finish());
    socket.on('end', () => this.close());
  }

  get closed(): boolean { return this.#closed; }

  /** Who is on the other end, for SipSource (undefined before an outbound connect completes). */
  source(): SipSource {
    if (this.#source) return this.#source;
    const source: SipSource = {
      transport: this.#hooks.protocol,
      remoteAddress: this.socket.remoteAddress ?? '',
      remotePort: this.socket.remotePort ?? 0,
      localAddress: this.socket.localAddress ?? '',
      localPort: this.socket.localPort ?? 0,
      connectionId: this.id,
    };
    // Cache once the socket is connected: after a close Node forgets the addresses.
    if (this.socket.remoteAddress !== undefined) this.#source = source;
    return source;
  }

  async write(bytes: Buffer): Promise<void> {
    await this.ready;
    if (this.#closed) throw transportError(`connection ${this.id} is closed`);
    await new Promise<void>((resolve, reject) => {
      this.socket.write(bytes, (err) => {
        if (err) reject(transportError(`write on ${this.id} failed: ${err.message}`, err));
        else resolve();
      });
    });
  }

  /** Graceful close (FIN); the socket is destroyed if the peer does not finish in time. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.end();
    this.socket.destroySoon();
    const force = setTimeout(() => this.socket.destroy(), 2_000);
    force.unref();
    this.socket.once('close', () => clearTimeout(force));
    this.#hooks.onClose(this);
  }

  destroy(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#hooks.onClose(this);
    }
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      this.#framer.push(chunk);
    } catch (err) {
      const error = err instanceof EpcError ? err : new EpcError('EPC_ERR_SIP_FRAMING', String(err));
      const source = this.source();
      // Framing is lost for good: nothing after this byte can be trusted, so close (RFC 3261 §18.3),
      // after the 513 when one was written.
      if (this.#answered) this.close();
      else this.destroy();
      this.#hooks.onFramingError(error, source);
    }
  }

  #finish(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#hooks.onClose(this);
    }
  }
}
