import type { SipRequest } from '../model/message.js';
import type { Via } from '../model/views.js';
import { getParam, socketHost, withParam } from '../model/uri.js';
import { getHeaders, topVia } from '../model/access.js';
import { setHeader } from '../model/edit.js';
import { formatVia } from '../grammar/via.js';
import type { SipSource, SipTarget, TransportProtocol } from './types.js';

/**
 * RFC 3261 §18.2.1: the server transport adds `received` to the top Via when its sent-by host
 * is not the packet's source address; RFC 3581 §4: when `rport` is present without a value it
 * is filled with the source port, and `received` is then always added.
 * Returns the request unchanged when nothing needs stamping. Throws SipParseError when the
 * top Via is malformed (the caller answers 400).
 */
export function stampReceived(request: SipRequest, source: SipSource): SipRequest {
  const via = topVia(request);
  const wantsRport = getParam(via.params, 'rport') === null;
  const sameHost = socketHost(via.host).toLowerCase() === source.remoteAddress.toLowerCase();
  if (sameHost && !wantsRport) return request;
  let params = withParam(via.params, 'received', source.remoteAddress);
  if (wantsRport) params = withParam(params, 'rport', String(source.remotePort));
  const stamped: Via = { ...via, params };
  const values = getHeaders(request, 'Via');
  return setHeader(request, 'Via', [formatVia(stamped), ...values.slice(1)]) as SipRequest;
}

const DEFAULT_PORT: Readonly<Record<string, number>> = { UDP: 5060, TCP: 5060, TLS: 5061, SCTP: 5060, WS: 80, WSS: 443 };

/**
 * Where a response goes when only its Via is known (stateless forwarding, RFC 3261 §18.2.2 with
 * RFC 3581 §4; the transaction layer has its own `responseTarget` from the request source): on the connection the request
 * came in on while it is open; else, for a reliable transport, a new connection to the
 * `received` address and sent-by port; for UDP the `received` address and `rport` (or sent-by
 * port). `maddr` multicast responses are not supported (not used on Mw).
 */
export function viaResponseTarget(via: Via, source?: SipSource): SipTarget {
  const transport = via.transport.toLowerCase() as TransportProtocol;
  const received = getParam(via.params, 'received');
  const rport = getParam(via.params, 'rport');
  const host = received ?? socketHost(via.host);
  const sentByPort = via.port ?? DEFAULT_PORT[via.transport] ?? 5060;
  const port = rport !== null && rport !== undefined && /^\d+$/.test(rport) ? Number(rport) : sentByPort;
  if (source?.connectionId !== undefined) {
    return { transport: source.transport, host, port: transport === 'udp' ? port : sentByPort, connectionId: source.connectionId };
  }
  return { transport, host, port };
}
