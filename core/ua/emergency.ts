/**
 * Which calls of the virtual UE are emergency calls, for R-MMTEL-4 (TS 24.629: a UE with an
 * emergency call shall not transfer it). The UE dials emergency numbers like any other target
 * (its client gives a SIP or tel URI); TS 22.101 §10.1.1 makes 112 and 911 emergency numbers in
 * every UE, and an emergency service URN (RFC 5031 `urn:service:sos`, TS 24.229 §5.1.6) is one
 * whatever the user part.
 */
import { parseUri } from '../sip/index.js';

const ALWAYS_EMERGENCY = new Set(['112', '911']);

export function isEmergencyTarget(target: string): boolean {
  if (/^urn:service:sos(\.|$)/i.test(target)) return true;
  let uri;
  try {
    uri = parseUri(target);
  } catch {
    return false;
  }
  const number = uri.kind === 'tel' ? uri.number : uri.kind === 'sip' ? uri.user ?? '' : '';
  return ALWAYS_EMERGENCY.has(number.replace(/[-.()]/g, ''));
}
