import { topVia } from '../index.js';
import type { SipRequest } from '../model/message.js';
import { getParam, socketHost } from '../model/uri.js';
import { isReliable, type SipSource, type SipTarget } from '../transport/types.js';

/**
 * Where a server transaction sends its responses (RFC 3261 §18.2.2, RFC 3581 §4):
 * - reliable transport: back over the connection the request arrived on; should it be gone,
 *   to the source address at the sent-by port (the transport opens a new connection);
 * - unreliable, top Via has maddr: to maddr, at the sent-by port (default 5060);
 * - unreliable otherwise: to the packet's source address (which is what `received` would
 *   hold), at the source port when the client asked for `rport`, else the sent-by port.
 */
export function responseTarget(request: SipRequest, source: SipSource): SipTarget {
  const transport = source.transport;
  const via = topVia(request);
  if (isReliable(transport)) {
    const base = { transport, host: source.remoteAddress, port: via.port ?? (transport === 'tls' || transport === 'wss' ? 5061 : 5060) };
    return source.connectionId === undefined ? { ...base, port: source.remotePort } : { ...base, connectionId: source.connectionId };
  }
  const maddr = getParam(via.params, 'maddr');
  if (typeof maddr === 'string' && maddr !== '') {
    return { transport, host: socketHost(maddr), port: via.port ?? 5060 };
  }
  const rport = getParam(via.params, 'rport');
  const port = rport !== undefined ? source.remotePort : via.port ?? 5060;
  return { transport, host: source.remoteAddress, port };
}
