/** Readings of captured SIP that the interop tests assert on. */
import { nameAddrList, type SipMessage, type SipUri } from '../../core/sip/index.js';
import type { EpcscfUnderTest } from './epcscf-harness.js';

export function sipUris(message: SipMessage, header: 'Route' | 'Record-Route' | 'P-Asserted-Identity'): SipUri[] {
  return nameAddrList(message, header).flatMap((na) => (na.uri.kind === 'sip' ? [na.uri] : []));
}

/** epcscf's own Record-Route entries, in order, tagged by the side they face. */
export function ownRecordRoutes(message: SipMessage, epcscf: EpcscfUnderTest): ('mw' | 'w2')[] {
  return sipUris(message, 'Record-Route').flatMap((u) => {
    if (u.host !== '127.0.0.1') return [];
    if (u.port === epcscf.mwPort) return ['mw' as const];
    if (u.port === epcscf.w2Port) return ['w2' as const];
    return [];
  });
}
