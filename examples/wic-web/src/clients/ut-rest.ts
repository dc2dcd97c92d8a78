/**
 * Ut for a SIP-over-WebSocket WIC (plugins/sip-ws README, "Service configuration over Ut"): SIP
 * has no channel for XCAP, so epcscf serves an XCAP root at /ut on its W2 server; the WIC reaches
 * its own simservs document there with the web token it registered with (TS 24.623, TS 24.109:
 * epcscf asserts the token's IMPU to the XCAP server). Without Ut the route does not exist.
 */
import { UtUnavailable, type UtAccess, type UtAnswer } from '../w2-client.js';

const UNAVAILABLE = 'Service settings are not available on this network.';

/** ws://host:port/sip → http://host:port/ut/simservs.ngn.etsi.org/users/<impu>/simservs.xml */
function documentUrl(wsUrl: string, impu: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = `/ut/simservs.ngn.etsi.org/users/${encodeURIComponent(impu)}/simservs.xml`;
  return url.toString();
}

export function utOverRest(wsUrl: string, impu: string, token: () => string | undefined): UtAccess {
  const base = documentUrl(wsUrl, impu);
  const send = async (method: 'GET' | 'PUT', node: string | undefined, xml?: string): Promise<UtAnswer> => {
    const bearer = token();
    if (bearer === undefined) throw new UtUnavailable(UNAVAILABLE);
    const headers: Record<string, string> = { authorization: `Bearer ${bearer}` };
    if (xml !== undefined) headers['content-type'] = 'application/xcap-el+xml';
    // RFC 4825 §6.3: the node selector after ~~, each step percent-encoded as a path segment.
    const url = node === undefined ? base : `${base}/~~/${node.split('/').map(encodeURIComponent).join('/')}`;
    const response = await fetch(url, { method, headers, ...(xml !== undefined ? { body: xml } : {}) }).catch(() => undefined);
    // No route (Ut off) answers JSON, not XCAP; a refused token the same: no settings here.
    if (response === undefined || (response.status === 404 && (response.headers.get('content-type') ?? '').includes('json')) || response.status === 401) throw new UtUnavailable(UNAVAILABLE);
    const body = await response.text();
    const etag = response.headers.get('etag');
    return { status: response.status, ...(etag !== null ? { etag } : {}), ...(body !== '' ? { xml: body } : {}) };
  };
  return { get: (node) => send('GET', node), put: (node, xml) => send('PUT', node, xml) };
}
