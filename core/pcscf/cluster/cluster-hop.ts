/**
 * The node-to-node hop of a cluster (issue #15): a request from Mw for a flow another node holds
 * is forwarded to that node's Mw contact with a Route naming it and carrying the flow token, so the
 * holder pops it as its own entry and reads the flow from it (RFC 5626 §5.2, RFC 3261 §16.4).
 * The entry is marked `cluster-hop`: a node never forwards a request that reached it that way
 * again (loop safety; it answers 430/480 if the flow is gone meanwhile). Responses come back
 * through the forwarding node's Via as for any proxied request.
 */
import { addHeader, getParam, parseUri, type NameAddr, type SipRequest } from '../../sip/index.js';

export const CLUSTER_HOP_PARAM = 'cluster-hop';

/** True when a popped own Route entry was written by another node of the cluster for this hop. */
export function isClusterHop(na: NameAddr): boolean {
  if (na.uri.kind !== 'sip') return false;
  // Runs on every Route entry a node pops, clustered or not: no lower-casing unless the length matches.
  for (const p of na.uri.params) if (p.name.length === CLUSTER_HOP_PARAM.length && p.name.toLowerCase() === CLUSTER_HOP_PARAM) return true;
  return false;
}

/**
 * `request` (our own Route entries already popped) with a Route to the holder on top:
 * `<sip:TOKEN@holder-host:port[;transport=x];lr[;ob];cluster-hop>`. Undefined when the holder's
 * contact is not a SIP URI.
 */
export function towardHolder(request: SipRequest, holderContact: string, token: string, outbound: boolean): SipRequest | undefined {
  let uri;
  try {
    uri = parseUri(holderContact);
  } catch {
    return undefined;
  }
  if (uri.kind !== 'sip') return undefined;
  const transport = getParam(uri.params, 'transport');
  const port = uri.port === undefined ? '' : `:${uri.port}`;
  const route = `<${uri.scheme}:${token}@${uri.host}${port}${typeof transport === 'string' ? `;transport=${transport}` : ''};lr${outbound ? ';ob' : ''};${CLUSTER_HOP_PARAM}>`;
  return addHeader(request, 'Route', route, { first: true });
}
