/**
 * Issue 11 #12: an empty Origin allow-list accepts any Origin and none at all (origin-policy.ts).
 * That keeps `npm start` friendly on loopback, where only this machine's pages and tools can
 * connect; on any other listener it means every web page on the Internet may open a W2
 * session in its visitors' browsers (R-WS-4 asks for a prior agreement with each WWSF). The
 * server says so at startup rather than refusing to run.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { W2Route } from '../plugin/loader.js';

/** Loopback only: 127.0.0.0/8, ::1, an IPv4-mapped 127.x address, or the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === 'localhost') return true;
  if (isIPv4(lower)) return lower.startsWith('127.');
  if (isIPv6(lower)) return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(lower);
  return false;
}

/**
 * The warning to log when a W2 path would accept any Origin on a listener other hosts can
 * reach; undefined when every path has an allow-list or the listener is loopback only.
 */
export function openOriginWarning(listenHost: string, routes: readonly Pick<W2Route, 'path' | 'allowedOrigins'>[]): string | undefined {
  if (isLoopbackHost(listenHost)) return undefined;
  const open = [...new Set(routes.filter((route) => route.allowedOrigins.length === 0).map((route) => route.path))];
  if (open.length === 0) return undefined;
  return `W2 listens on ${listenHost}, not loopback, and ${open.join(', ')} accept${open.length === 1 ? 's' : ''} WebSocket upgrades from any Origin `
    + '(w2.allowedOrigins is empty): any web page can open sessions through its visitors\' browsers. '
    + 'In production set w2.allowedOrigins (or EPCSCF_W2_ALLOWED_ORIGINS) to the origins of your WWSFs (R-WS-4).';
}
