import {
  addHeader, getHeaders, nameAddrList, parseNameAddr, removeHeader, type NameAddr, type SipRequest, type SipUri,
} from '../sip/index.js';
import { resolveNextHop, type DnsLookup } from '../sip/resolve/index.js';
import type { MwTransportProtocol } from '../sip/transport/transport.js';
import type { SipTarget } from '../sip/transport/types.js';
import { isClusterHop } from './cluster/cluster-hop.js';
import type { FlowRef } from './flow-token.js';
import { popRoute } from './forwarder.js';
import { hasOb, type OwnUris } from './own-uris.js';

export interface PoppedRoutes {
  readonly request: SipRequest;
  /** The flow named by a popped Path / W2 Record-Route entry. */
  readonly flow?: FlowRef;
  /** A popped entry carried a token whose MAC did not verify (RFC 5626 §5.3: 403). */
  readonly tampered: boolean;
  /** A popped entry carried `;ob` (the flow is an outbound flow: dead → 430). */
  readonly outbound: boolean;
  /** Another cluster node forwarded this request here (cluster-hop.ts): it is never forwarded again. */
  readonly clusterHop: boolean;
}

/** RFC 3261 §16.4: remove the Route entries that name us (Path, double Record-Route), reading their flow tokens. */
export function popOwnRoutes(request: SipRequest, uris: OwnUris): PoppedRoutes {
  let out = request;
  let flow: FlowRef | undefined;
  let tampered = false;
  let outbound = false;
  let clusterHop = false;
  for (;;) {
    const first = getHeaders(out, 'Route')[0];
    if (first === undefined) break;
    let na: NameAddr;
    try {
      na = parseNameAddr(first, 'Route');
    } catch {
      break;
    }
    if (!uris.isOwn(na.uri)) break;
    out = popRoute(out);
    const ref = uris.flowOf(na.uri);
    if (ref === 'tampered') tampered = true;
    else if (ref !== undefined) flow = ref;
    if (hasOb(na)) outbound = true;
    if (isClusterHop(na)) clusterHop = true;
  }
  return { request: out, tampered, outbound, clusterHop, ...(flow ? { flow } : {}) };
}

export interface MwRouting {
  readonly nextHop?: SipUri;
  readonly transports: readonly MwTransportProtocol[];
  readonly dns?: DnsLookup;
  /** The home network domain (mw.domain): the only Request-URI host a REGISTER is routed by. */
  readonly homeDomain?: string;
}

/**
 * Where a request leaves on Mw (RFC 3261 §16.6 step 7, RFC 3263). Every Route the request
 * carries here was written by the P-CSCF from what the IMS gave it: the Service-Route (R-ORIG-4)
 * or a dialog's recorded route set (R-ORIG-10). So the first Route entry (loose routing), else
 * the configured entry point (mw.nextHop), else `destination`, an IMS-given URI (a dialog's
 * remote target). A WIC's Request-URI never picks the next hop (issue 11 #2): a REGISTER goes to
 * the entry point, else to the home domain only (R-REG-16); anything else finds no target.
 */
export async function mwTargets(request: SipRequest, routing: MwRouting, destination?: SipUri): Promise<SipTarget[]> {
  const route = request.method === 'REGISTER' ? undefined : nameAddrList(request, 'Route')[0];
  let uri: SipUri | undefined;
  if (route !== undefined && route.uri.kind === 'sip') uri = route.uri;
  else if (routing.nextHop !== undefined) uri = routing.nextHop;
  else if (request.method === 'REGISTER') uri = homeDomainUri(request, routing);
  else uri = destination;
  if (uri === undefined) return [];
  return resolveNextHop(uri, { transports: routing.transports, ...(routing.dns ? { dns: routing.dns } : {}) });
}

function homeDomainUri(register: SipRequest, routing: MwRouting): SipUri | undefined {
  const uri = register.uri;
  if (uri.kind !== 'sip' || routing.homeDomain === undefined) return undefined;
  return uri.host.toLowerCase() === routing.homeDomain.toLowerCase() ? uri : undefined;
}

/** R-ORIG-4 / R-ORIG-10: the request's Route set replaced by one the IMS gave (Service-Route, a dialog's route set). */
export function withRouteSet(request: SipRequest, routes: readonly string[]): SipRequest {
  let out = removeHeader(request, 'Route');
  for (const route of routes) out = addHeader(out, 'Route', route);
  return out;
}
