import type { Server, Socket } from 'node:net';
import { isIP } from 'node:net';
import { EpcError } from '../../errors.js';
import type { SipMessage } from '../model/message.js';
import { socketHost } from '../model/uri.js';
import { serializeMessage } from '../codec/serialize.js';
import { SipParseError } from '../codec/parse-error.js';
import { buildMalformedReply } from './malformed-reply.js';
import { StreamConnection, type StreamConnectionHooks } from './stream-connection.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './stream-framer.js';
import { TransportBase, remoteKey, transportError, type TransportBaseOptions } from './transport-base.js';
import type { BoundAddress, SipTransport } from './transport.js';
import type { SipTarget } from './types.js';

export interface StreamTransportOptions extends TransportBaseOptions {
  /** Largest inbound message; larger ones close the connection (default 64 KiB). */
  readonly maxMessageSize?: number;
  /** Close a connection after this long without traffic in either direction (default 5 min; 0 = never). */
  readonly idleTimeoutMs?: number;
  /** Give up an outbound connect (and TLS handshake) after this long (default 10 s). */
  readonly connectTimeoutMs?: number;
}

/** An outbound socket plus the event that means "usable" (`connect` or `secureConnect`). */
export interface OutboundSocket {
  readonly socket: Socket;
  readonly readyEvent: 'connect' | 'secureConnect';
}

/**
 * Connection-oriented SIP (TCP, TLS): a listening server plus a pool of connections shared by
 * both directions. RFC 3261 §18.2.2: a response goes back on the connection its request came
 * in on; RFC 5923-style reuse: a connection to or from host:port carries later messages to
 * that host:port, so one connection serves many transactions.
 */
export abstract class StreamTransport extends TransportBase implements SipTransport {
  readonly #maxMessageSize: number;
  readonly #idleTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #connections = new Map<string, StreamConnection>();
  /** Open connections by remote address, newest wins. */
  readonly #byRemote = new Map<string, StreamConnection>();
  #server: Server | undefined;
  #closed = false;

  constructor(options: StreamTransportOptions = {}) {
    super(options);
    this.#maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  protected abstract createServer(onConnection: (socket: Socket) => void): Server;
  protected abstract connectSocket(target: SipTarget, localAddress: string | undefined): OutboundSocket;

  /** Open connections (for tests and the admin API). */
  get connectionCount(): number { return this.#connections.size; }

  /** Whether `connectionId` names an open connection of this transport. */
  hasConnection(connectionId: string): boolean {
    return this.#connections.get(connectionId)?.closed === false;
  }

  async listen(host: string, port: number): Promise<BoundAddress> {
    if (this.#server || this.#closed) throw new EpcError('EPC_ERR_INVALID_STATE', `${this.protocol} transport already listening or closed`);
    const server = this.createServer((socket) => this.#adopt(socket, undefined));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(transportError(`${this.protocol} listen ${host}:${port} failed: ${err.message}`, err));
      server.once('error', onError);
      server.listen(port, socketHost(host), () => { server.off('error', onError); resolve(); });
    }).catch((err: unknown) => { this.#server = undefined; throw err; });
    server.on('error', (err) => this.reportFault({ error: transportError(`${this.protocol} server error: ${err.message}`, err), action: 'dropped' }));
    const address = server.address();
    if (!address || typeof address === 'string') throw transportError(`${this.protocol} server has no address`);
    this.bound = { host: address.address, port: address.port };
    return this.bound;
  }

  async send(message: SipMessage, target: SipTarget): Promise<void> {
    if (this.#closed) throw transportError(`${this.protocol} transport is closed`);
    const bytes = serializeMessage(message);
    const connection = this.#connectionFor(target);
    await connection.write(bytes);
    this.stats.messagesSent++;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const connection of [...this.#connections.values()]) connection.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * The named connection when open; else any open connection to host:port; else a new one.
   * A dead `connectionId` falls back to host:port (RFC 3261 §18.2.2: open a new connection to
   * the `received` address of a response's Via).
   */
  #connectionFor(target: SipTarget): StreamConnection {
    if (target.connectionId !== undefined) {
      const named = this.#connections.get(target.connectionId);
      if (named && !named.closed) return named;
    }
    const existing = this.#byRemote.get(remoteKey({ host: socketHost(target.host), port: target.port }));
    if (existing && !existing.closed) return existing;
    return this.#open(target);
  }

  #open(target: SipTarget): StreamConnection {
    const local = this.bound && !isWildcard(this.bound.host) && isIP(socketHost(target.host)) === isIP(this.bound.host)
      ? this.bound.host : undefined;
    const { socket, readyEvent } = this.connectSocket({ ...target, host: socketHost(target.host) }, local);
    const where = `${this.protocol}:${target.host}:${target.port}`;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy(transportError(`connect to ${where} timed out after ${this.#connectTimeoutMs} ms`));
      }, this.#connectTimeoutMs);
      timer.unref();
      socket.once(readyEvent, () => { clearTimeout(timer); resolve(); });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(transportError(`connection to ${where} closed before it was established`));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err instanceof EpcError ? err : transportError(`connect to ${where} failed: ${err.message}`, err));
      });
    });
    return this.#adopt(socket, ready, remoteKey({ host: socketHost(target.host), port: target.port }));
  }

  #adopt(socket: Socket, ready: Promise<void> | undefined, key?: string): StreamConnection {
    const hooks: StreamConnectionHooks = {
      protocol: this.protocol,
      maxMessageSize: this.#maxMessageSize,
      idleTimeoutMs: this.#idleTimeoutMs,
      onMessage: (bytes, connection) => {
        this.receive(bytes, connection.source(), false, (reply) => { connection.write(reply).catch(() => {}); });
      },
      answerOversized: (header, limit) => {
        // RFC 3261 §21.5.14: 513 Message Too Large, built from the complete header section.
        const answer = buildMalformedReply(header, new SipParseError(`Message Too Large (limit ${limit} bytes)`, 513));
        if (!answer) return undefined;
        this.stats.malformedAnswered++;
        return serializeMessage(answer);
      },
      onFramingError: (error, source) => {
        this.stats.framingErrors++;
        this.reportFault({ error, source, action: 'closed' });
      },
      onClose: (connection) => {
        this.#connections.delete(connection.id);
        for (const [remote, holder] of this.#byRemote) if (holder === connection) this.#byRemote.delete(remote);
        this.stats.connectionsClosed++;
      },
    };
    const connection = new StreamConnection(socket, hooks, ready);
    this.#connections.set(connection.id, connection);
    this.stats.connectionsOpened++;
    const remote = key ?? remoteKey({ host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
    this.#byRemote.set(remote, connection);
    if (this.#closed) connection.destroy(); // accepted while closing
    return connection;
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}
