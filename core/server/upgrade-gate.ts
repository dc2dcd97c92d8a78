/**
 * The W2 handshake policy, run on the raw HTTP upgrade before any WebSocket exists: the path must
 * be a W2 binding (404), the server must be running (503), the Origin must be one the binding has
 * an agreement with (403, R-WS-4), and the client must offer a subprotocol the path serves (400,
 * RFC 6455 §4.2.2, R-WS-3). A refusal is a complete HTTP response and the socket is closed: no
 * upgrade ever happens, so the plugin never sees the connection.
 *
 * Why not a fastify route: a request that went through fastify's router stays reachable from the
 * upgraded socket for the connection's life (request, reply, a child logger per request: about
 * 2 KiB of heap per idle WebSocket), and every W2 decision here needs only the path and two headers.
 */
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { W2Route } from '../plugin/loader.js';
import { isOriginAllowed } from './origin-policy.js';
import { chooseRoute, offeredSubprotocols } from './subprotocol.js';
import type { RouteChoice } from './subprotocol.js';

export type UpgradeDecision =
  | { readonly accept: true; readonly choice: RouteChoice }
  | { readonly accept: false; readonly status: number; readonly message: string };

/** W2 routes grouped by path, in load order (the first binding that matches wins, chooseRoute). */
export function routesByPath(routes: readonly W2Route[]): Map<string, W2Route[]> {
  const byPath = new Map<string, W2Route[]>();
  for (const route of routes) {
    const list = byPath.get(route.path) ?? [];
    list.push(route);
    byPath.set(route.path, list);
  }
  return byPath;
}

/** The path of a request target (`/sip?x=1` → `/sip`). */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

export function decideUpgrade(request: IncomingMessage, byPath: ReadonlyMap<string, readonly W2Route[]>, closing: boolean): UpgradeDecision {
  const path = pathOf(request.url);
  const routes = byPath.get(path);
  if (routes === undefined) return { accept: false, status: 404, message: `no W2 endpoint at ${path}` };
  if (closing) return { accept: false, status: 503, message: 'server is shutting down' };
  const origin = request.headers.origin;
  const allowedHere = routes.filter((route) => isOriginAllowed(origin, route.allowedOrigins));
  if (allowedHere.length === 0) {
    // R-WS-4: not an origin this eP-CSCF has an agreement with; no upgrade.
    return { accept: false, status: 403, message: `origin ${origin ?? '(none)'} is not allowed on ${path}` };
  }
  const choice = chooseRoute(allowedHere, offeredSubprotocols(request.headers['sec-websocket-protocol']));
  if (choice === undefined) {
    // RFC 6455 §4.2.2: never select a subprotocol the client did not offer; without one the
    // endpoint cannot run, so refuse the handshake rather than upgrade without it.
    const served = allowedHere.flatMap((route) => route.subprotocols).join(', ');
    return { accept: false, status: 400, message: `no supported Sec-WebSocket-Protocol offered on ${path} (serves: ${served})` };
  }
  return { accept: true, choice };
}

/** Answers a refused handshake with a JSON error body (the shape fastify's errors have) and closes. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ error: reason, message });
  // The socket left Node's HTTP machinery with the upgrade: a late error must not go unhandled.
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
