/**
 * Which JIDs a client stanza may be addressed to (RFC 7247 §5): users of the served domain
 * (local@domain, with or without resource) map to SIP/tel URIs; anything else is unmapped and
 * answered service-unavailable by the caller.
 */
import { EpcError } from '../../../core/contract/index.js';
import { bareJid, formatJid, parseJid, type Jid } from './jid.js';
import { jidToUri, uriToJid } from './jid-sip-mapping.js';

export interface MappedPeer {
  readonly jid: Jid;
  /** The bare JID text, the `from` of everything the gateway sends on the SIP party's behalf. */
  readonly bare: string;
  /** The SIP or tel URI the UE sends to. */
  readonly uri: string;
}

/** `to` of a client stanza -> the SIP party, or undefined when it is not a user of `domain`. */
export function mappedPeer(to: string | undefined, domain: string): MappedPeer | undefined {
  if (to === undefined) return undefined;
  let jid: Jid;
  try {
    jid = parseJid(to);
  } catch (error) {
    if (error instanceof EpcError) return undefined;
    throw error;
  }
  if (jid.local === undefined || jid.domain !== domain) return undefined;
  const bare = bareJid(jid);
  return { jid, bare: formatJid(bare), uri: jidToUri(bare) };
}

/** A SIP party (From of a MESSAGE/INVITE) -> the bare JID it appears as, or undefined when it has no JID form. */
export function jidOfParty(uri: string, domain: string): string | undefined {
  try {
    return formatJid(bareJid(uriToJid(uri, { telDomain: domain })));
  } catch (error) {
    if (error instanceof EpcError) return undefined;
    throw error;
  }
}
