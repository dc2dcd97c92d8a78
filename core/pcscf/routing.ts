import { getHeaders, nameAddrList, parseNameAddr, type NameAddr, type SipRequest, type SipUri } from '../sip/index.js';
import { resolveNextHop, type DnsLookup } from '../sip/resolve/index.js';
import type { MwTransportProtocol } from '../sip/transport/transport.js';
import type { SipTarget } from '../sip/transport/types.js';
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
}

/** RFC 3261 §16.4: remove the Route entries that name us (Path, double Record-Route), reading their flow tokens. */
export function popOwnRoutes(request: SipRequest, uris: OwnUris): PoppedRoutes {
  let out = request;
  let flow: FlowRef | undefined;
  let tampered = false;
  let outbound = false;
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
  }
  return { request: out, tampered, outbound, ...(flow ? { flow } : {}) };
}

export interface MwRouting {
  readonly nextHop?: SipUri;
  readonly transports: readonly MwTransportProtocol[];
  readonly dns?: DnsLookup;
}

/**
 * Where a request leaves on Mw (RFC 3261 §16.6 step 7, RFC 3263): the first Route entry (loose
 * routing), else the configured entry point (mw.nextHop), else the Request-URI. REGISTER always
 * goes to the entry point when one is configured (R-REG-16).
 */
export async function mwTargets(request: SipRequest, routing: MwRouting): Promise<SipTarget[]> {
  const route = request.method === 'REGISTER' ? undefined : nameAddrList(request, 'Route')[0];
  let uri: SipUri | undefined;
  if (route !== undefined && route.uri.kind === 'sip') uri = route.uri;
  else if (routing.nextHop !== undefined) uri = routing.nextHop;
  else if (request.uri.kind === 'sip') uri = request.uri;
  if (uri === undefined) return [];
  return resolveNextHop(uri, { transports: routing.transports, ...(routing.dns ? { dns: routing.dns } : {}) });
}
