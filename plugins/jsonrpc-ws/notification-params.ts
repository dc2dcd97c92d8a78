/**
 * How core/ua's events read on the wire (schemas/jsonrpc/notifications.json). Pure mappings:
 * optional fields are left out rather than sent as null, so every object validates.
 */
import type { CallEndInfo, PartyIdentity, RegistrationInfo } from '../../core/contract/index.js';

export type Params = Record<string, unknown>;

export function registrationParams(info: RegistrationInfo, impu: string | undefined): Params {
  return {
    state: info.state,
    ...(impu !== undefined ? { impu } : {}),
    ...(info.expires !== undefined ? { expires: info.expires } : {}),
    ...(info.associatedUris !== undefined ? { associatedUris: [...info.associatedUris] } : {}),
    ...(info.status !== undefined ? { sipStatus: info.status } : {}),
    ...(info.reason !== undefined ? { reason: info.reason } : {}),
  };
}

/**
 * RFC 3323: a party who asked for privacy is shown as anonymous whatever URI the network left —
 * the RFC 3323 §4.1.1.3 anonymous URI, never the hidden identity (OIR TS 24.607, TIR TS 24.608).
 */
export const ANONYMOUS_URI = 'sip:anonymous@anonymous.invalid';

export function partyParams(party: PartyIdentity): Params {
  return {
    uri: party.anonymous === true ? ANONYMOUS_URI : party.uri,
    ...(party.displayName !== undefined && !party.anonymous ? { displayName: party.displayName } : {}),
    anonymous: party.anonymous === true,
  };
}

export function endedParams(callId: string, info: CallEndInfo): Params {
  // R-JR-3: the SIP status that ended the call travels in the notification, not as an error.
  const reason = info.reasonHeader ?? info.reason;
  return {
    callId,
    cause: info.cause,
    ...(info.status !== undefined ? { sipStatus: info.status } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
}

export function withOptionalSdp(params: Params, sdp: string | undefined): Params {
  return sdp !== undefined && sdp !== '' ? { ...params, sdp } : params;
}
