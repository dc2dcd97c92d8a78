/**
 * Caps on the W2 listener's TCP connections (issue 11 #5: slow sockets took every file
 * descriptor and normal clients were refused). Four bounds, each enforced as soon as it can be:
 *   - per node: `net.Server.maxConnections` closes a connection beyond the cap before Node's
 *     HTTP machinery sees it (its 'drop' event is counted);
 *   - per source IP: the 'connection' listener destroys a socket beyond the cap at once, before
 *     it has sent a byte;
 *   - new connections per second per source IP (issue 15: a client that reconnects as fast as it
 *     is cut off): beyond the token bucket the socket is destroyed the same way, before any HTTP
 *     parsing, upgrade hash or session exists;
 *   - the upgrade deadline: Node's `headersTimeout` answers 408 and disconnects a client whose
 *     request head (the WebSocket upgrade) is not complete in time; its connection checker runs
 *     often enough for the deadline to mean what it says (Node's default is every 30 s).
 * A connection counts from accept to close, WebSocket or plain HTTP alike.
 */
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { W2RefusalReason } from '../contract/host.js';
import type { RateLimitConfig } from '../config/config-types.js';
import { RateBuckets } from '../overload/rate-buckets.js';

export interface ConnectionCaps {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Deadline for the request head of a connection (the upgrade). */
  readonly upgradeTimeoutMs: number;
  /** New TCP connections per second from one source IP; omitted: not limited. */
  readonly connectionRatePerIp?: RateLimitConfig;
}

/** A refusal at the connection level, with the peer it refused. */
export type ConnectionRefused = (reason: W2RefusalReason, remoteAddress: string | undefined) => void;

/**
 * The http.Server options that carry the upgrade deadline. `requestTimeout` bounds a whole
 * request (a slow body on an HTTP route) and must not be below `headersTimeout` (Node checks).
 */
export function httpTimeoutOptions(caps: ConnectionCaps): Pick<ServerOptions, 'headersTimeout' | 'requestTimeout' | 'connectionsCheckingInterval'> {
  return {
    headersTimeout: caps.upgradeTimeoutMs,
    requestTimeout: Math.max(caps.upgradeTimeoutMs, 30_000),
    // The checker only walks connections that are mid-request (idle WebSockets are not in its list).
    connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(caps.upgradeTimeoutMs / 4))),
  };
}

/** The source IP a socket was counted under (the address may be gone once it is closed). */
const COUNTED_IP = Symbol('w2-counted-ip');
type CountedSocket = Socket & { [COUNTED_IP]?: string };

export class ConnectionGuard {
  readonly #caps: ConnectionCaps;
  readonly #onRefused: ConnectionRefused;
  readonly #perIp = new Map<string, number>();
  readonly #ratePerIp: RateBuckets | undefined;
  /** One listener per guard, shared by its sockets (no closure per connection). */
  readonly #onSocketClose: (this: CountedSocket) => void;

  constructor(caps: ConnectionCaps, onRefused: ConnectionRefused) {
    this.#caps = caps;
    this.#onRefused = onRefused;
    this.#ratePerIp = caps.connectionRatePerIp !== undefined ? new RateBuckets(caps.connectionRatePerIp) : undefined;
    const perIp = this.#perIp;
    this.#onSocketClose = function onSocketClose(this: CountedSocket): void {
      const ip = this[COUNTED_IP];
      if (ip === undefined) return;
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left <= 0) perIp.delete(ip);
      else perIp.set(ip, left);
    };
  }

  /** Open connections from `ip` (tests, admin views). */
  connectionsFrom(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /** Applies the caps to `server` (before it listens). */
  attach(server: Server): void {
    server.maxConnections = this.#caps.maxConnections;
    server.on('drop', (data?: { remoteAddress?: string }) => this.#onRefused('connections', data?.remoteAddress));
    server.on('connection', (socket: Socket) => this.#admit(socket));
    server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
      // fastify's clientError handler answers 408 and closes; this one only counts.
      if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') this.#onRefused('upgrade_timeout', socket.remoteAddress);
    });
  }

  #admit(socket: CountedSocket): void {
    const ip = socket.remoteAddress ?? '';
    const open = this.#perIp.get(ip) ?? 0;
    if (open >= this.#caps.maxConnectionsPerIp) {
      socket.destroy();
      this.#onRefused('connections_per_ip', ip);
      return;
    }
    if (this.#ratePerIp !== undefined && this.#ratePerIp.take(ip) > 0) {
      socket.destroy();
      this.#onRefused('connection_rate_per_ip', ip);
      return;
    }
    this.#perIp.set(ip, open + 1);
    socket[COUNTED_IP] = ip;
    socket.once('close', this.#onSocketClose);
  }
}
