/**
 * Subprotocol negotiation (RFC 6455 §4.2.2 /subprotocol/, R-WS-3): the server selects exactly
 * one value the client offered, never one it did not offer, and echoes it. A path may be served
 * by several plugins that differ by subprotocol; each binding lists its tokens by preference.
 */
import type { W2Route } from '../plugin/loader.js';

/** Splits `Sec-WebSocket-Protocol` (Node joins repeated headers with ', '). */
export function offeredSubprotocols(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header.split(',').map((token) => token.trim()).filter((token) => token.length > 0);
}

export interface RouteChoice {
  readonly route: W2Route;
  readonly subprotocol: string;
}

/** The first route (load order) with a token the client offered, in the binding's preference order. */
export function chooseRoute(routes: readonly W2Route[], offered: readonly string[]): RouteChoice | undefined {
  for (const route of routes) {
    const subprotocol = route.subprotocols.find((token) => offered.includes(token));
    if (subprotocol !== undefined) return { route, subprotocol };
  }
  return undefined;
}
