/** Small helpers of the dev core's proxy: who is "us", where a URI leads, Via/Route editing. */
import { getParam, socketHost, splitList, withHeaders } from '../../core/sip/index.js';
import type { SipMessage, Uri } from '../../core/sip/index.js';
import type { SipTarget, TransportProtocol } from '../../core/sip/transport/types.js';

export interface SelfAddress {
  /** IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

/** RFC 3261 §16.4: a Route/Request-URI that names this proxy (same host and port). */
export function isSelf(uri: Uri, self: SelfAddress): boolean {
  return uri.kind === 'sip' && socketHost(uri.host) === self.host && (uri.port ?? 5060) === self.port;
}

/**
 * RFC 3263 reduced to what a loopback demo needs: the URI's host and port, over its
 * `transport` parameter when this core speaks it, else UDP.
 */
export function targetOf(uri: Uri): SipTarget {
  if (uri.kind !== 'sip') throw new Error(`cannot route to a ${uri.kind} URI`);
  const param = getParam(uri.params, 'transport');
  const wanted = typeof param === 'string' ? param.toLowerCase() : 'udp';
  const transport: TransportProtocol = wanted === 'tcp' || wanted === 'tls' ? wanted : 'udp';
  const port = uri.port ?? (uri.scheme === 'sips' || transport === 'tls' ? 5061 : 5060);
  return { transport, host: socketHost(uri.host), port };
}

/** Removes the first value of the first header `name` (our own Via on a response, a Route of ours). */
export function removeFirstValue<M extends SipMessage>(message: M, name: string): M {
  const key = name.toLowerCase();
  const index = message.headers.findIndex((h) => h.name.toLowerCase() === key);
  if (index < 0) return message;
  const header = message.headers[index] as { name: string; value: string };
  const rest = splitList(header.value).slice(1);
  const headers = [...message.headers];
  if (rest.length === 0) headers.splice(index, 1);
  else headers.splice(index, 1, { name: header.name, value: rest.join(', ') });
  return withHeaders(message, headers);
}

/** RFC 3261 §16.6 step 3: Max-Forwards decremented (70 when absent). */
export function nextMaxForwards(current: number | undefined): string {
  return String(current === undefined ? 70 : current - 1);
}
