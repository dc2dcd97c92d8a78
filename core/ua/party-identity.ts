/**
 * Who is calling, as the network asserted it: P-Asserted-Identity (RFC 3325 §9.1) when present,
 * else From; anonymous when the caller asked for privacy (RFC 3323 §4.2 id/header/user) or
 * the From is the RFC 3323 §4.1.1.3 anonymous URI.
 */
import { formatUri, from, nameAddrList, privacy, to, type SipRequest, type SipResponse } from '../sip/index.js';
import type { PartyIdentity } from './api.js';

export function callerIdentity(request: SipRequest): PartyIdentity {
  let asserted;
  try {
    const pai = nameAddrList(request, 'P-Asserted-Identity');
    asserted = pai.find((na) => na.uri.kind === 'sip') ?? pai[0];
  } catch {
    asserted = undefined;
  }
  const source = asserted ?? from(request);
  const uri = formatUri(source.uri);
  const hidden = privacy(request).some((p) => p === 'id' || p === 'header' || p === 'user');
  const anonymousFrom = /anonymous\.invalid/i.test(formatUri(from(request).uri));
  return {
    uri,
    ...(source.displayName !== undefined ? { displayName: source.displayName } : {}),
    ...(hidden || anonymousFrom ? { anonymous: true } : {}),
  };
}

/**
 * Who answered, as the network asserted it (TIP, TS 24.608 §4.5.2): the 2xx's P-Asserted-Identity
 * (RFC 3325 §9.1), else To; anonymous when the callee asked for privacy (TIR, RFC 3323 §4.2).
 */
export function connectedIdentity(response: SipResponse): PartyIdentity {
  let asserted;
  try {
    const pai = nameAddrList(response, 'P-Asserted-Identity');
    asserted = pai.find((na) => na.uri.kind === 'sip') ?? pai[0];
  } catch {
    asserted = undefined;
  }
  const source = asserted ?? to(response);
  const hidden = privacy(response).some((p) => p === 'id' || p === 'header' || p === 'user');
  return {
    uri: formatUri(source.uri),
    ...(source.displayName !== undefined ? { displayName: source.displayName } : {}),
    ...(hidden ? { anonymous: true } : {}),
  };
}

/** A `message/sipfrag` status line (RFC 3420, RFC 3515 §2.4.5): `SIP/2.0 180 Ringing`. */
export function readSipfragStatus(body: string): { status: number; reason: string } | undefined {
  const match = /^SIP\/2\.0 (\d{3}) ?([^\r\n]*)/.exec(body.trimStart());
  if (match === null) return undefined;
  return { status: Number(match[1]), reason: match[2] ?? '' };
}
