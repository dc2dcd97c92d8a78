/**
 * RFC 7247 §5 address mapping between XMPP and SIP, as this gateway applies it:
 *  - `local@domain[/resource]` ⇄ `sip:local@domain`: the localpart is XEP-0106-unescaped into
 *    the SIP user (core/sip's URI serializer percent-encodes what RFC 3261 §25.1 requires) and
 *    escaped again on the way back. The resource has no SIP equivalent (RFC 7247 §5: it is the
 *    closest thing to a GRUU); it is dropped, or carried as `;gr=` when asked.
 *  - a localpart that is a global E.164 number (`+15550001@domain`) ⇄ `tel:+15550001`. RFC 3966
 *    visual separators (- . ( )) are accepted in the JID and removed: IMS compares global
 *    numbers without them (TS 24.229 §5.1.2A.1.5 uses tel URIs in their canonical form), so
 *    `tel:+1-555-0001` and `+1(555)0001@domain` both map to `+15550001`.
 *    `sip:+15550001@domain;user=phone` maps to the same JID.
 */
import { EpcError } from '../../../core/contract/index.js';
import { formatUri, getParam, parseUri, type SipUri, type TelUri } from '../../../core/contract/index.js';
import { escapeLocalpart, unescapeLocalpart } from './jid-escaping.js';
import { jidError, parseJid, type Jid } from './jid.js';

const VISUAL_SEPARATORS = /[-.()]/g;
const GLOBAL_NUMBER = /^\+[0-9]{1,15}$/;

/** `+1-555-0001` -> `+15550001` when it is a global number (RFC 3966 §5.1.4), else undefined. */
export function globalNumberOf(text: string): string | undefined {
  const digits = text.replace(VISUAL_SEPARATORS, '');
  return GLOBAL_NUMBER.test(digits) ? digits : undefined;
}

export interface JidToUriOptions {
  /** Render `+E.164@domain` as a tel URI (default true). */
  readonly telForGlobalNumbers?: boolean;
  /** Carry the resource as `;gr=` (RFC 5627) instead of dropping it (default false). */
  readonly resourceAsGruu?: boolean;
}

export function jidToUri(jid: Jid, options: JidToUriOptions = {}): string {
  if (jid.local === undefined) throw new EpcError('EPC_ERR_XMPP_JID_INVALID', `${jid.domain}: a domain JID names no user and maps to no SIP/tel URI`);
  const user = unescapeLocalpart(jid.local);
  const number = globalNumberOf(user);
  if (number !== undefined && (options.telForGlobalNumbers ?? true)) {
    const tel: TelUri = { kind: 'tel', scheme: 'tel', number, params: [] };
    return formatUri(tel);
  }
  const sip: SipUri = {
    kind: 'sip', scheme: 'sip', user: number ?? user, host: jid.domain,
    params: options.resourceAsGruu && jid.resource !== undefined ? [{ name: 'gr', value: jid.resource }] : [],
    headers: [],
  };
  return formatUri(sip);
}

export interface UriToJidOptions {
  /** The XMPP domain tel URIs land in (tel URIs have no host). */
  readonly telDomain: string;
}

export function uriToJid(text: string, options: UriToJidOptions): Jid {
  let uri;
  try {
    uri = parseUri(text);
  } catch (error) {
    throw new EpcError('EPC_ERR_XMPP_JID_INVALID', `${JSON.stringify(text.slice(0, 80))} is not a URI`, { cause: error });
  }
  if (uri.kind === 'tel') {
    const number = globalNumberOf(uri.number);
    if (number === undefined) throw jidError(text, 'only global tel numbers map to a JID (RFC 3966 §5.1.4)');
    return parseJid(`${number}@${options.telDomain}`);
  }
  if (uri.kind !== 'sip' || uri.user === undefined) throw jidError(text, 'only sip:user@host and global tel URIs map to a JID');
  const number = getParam(uri.params, 'user') === 'phone' ? globalNumberOf(uri.user) : undefined;
  const local = number ?? escapeLocalpart(uri.user);
  if (local === undefined) throw jidError(text, 'the user part starts or ends with a space (XEP-0106 §4.3)');
  const gruu = getParam(uri.params, 'gr');
  return parseJid(`${local}@${uri.host}${typeof gruu === 'string' && gruu !== '' ? `/${gruu}` : ''}`);
}
