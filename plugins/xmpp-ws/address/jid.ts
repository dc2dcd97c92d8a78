/**
 * JIDs (RFC 7622): `[localpart@]domainpart[/resourcepart]`. Parsing refuses what RFC 7622 forbids
 * with a typed EpcError (EPC_ERR_XMPP_JID_INVALID): empty or over-long parts (1..1023 octets
 * each, §3.1), the localpart's forbidden characters (§3.3.1), spaces and controls in local and
 * domain parts, a domain that is not a hostname or IP literal (§3.2). Local and domain parts are
 * compared case-insensitively: they are lower-cased and NFC-normalized here, an approximation of
 * the PRECIS UsernameCaseMapped profile that is exact for ASCII.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { EpcError } from '../../../core/contract/index.js';

export interface Jid {
  readonly local?: string;
  readonly domain: string;
  readonly resource?: string;
}

const MAX_PART_OCTETS = 1023;
// RFC 7622 §3.3.1: " & ' / : < > @ are not allowed in a localpart; IdentifierClass has no spaces or controls.
const LOCALPART_FORBIDDEN = /["&'/:<>@\s\u0000-\u001f\u007f]/u;
const CONTROL = /[\u0000-\u001f\u007f]/u;
const HOSTNAME_LABEL = /^(?!-)[\p{L}\p{N}-]{1,63}(?<!-)$/u;

export function jidError(text: string, why: string): EpcError {
  return new EpcError('EPC_ERR_XMPP_JID_INVALID', `${JSON.stringify(text.slice(0, 80))}: ${why}`);
}

function checkLength(text: string, part: string, what: string): void {
  const octets = Buffer.byteLength(part, 'utf8');
  if (octets === 0 || octets > MAX_PART_OCTETS) throw jidError(text, `${what} must be 1..${MAX_PART_OCTETS} octets (RFC 7622 §3.1)`);
}

function normalizeDomain(text: string, domain: string): string {
  // RFC 7622 §3.2: a trailing dot is stripped before any other processing.
  const bare = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  checkLength(text, bare, 'domainpart');
  if (bare.startsWith('[') && bare.endsWith(']')) {
    if (!isIPv6(bare.slice(1, -1))) throw jidError(text, 'domainpart IP literal is not IPv6');
    return bare.toLowerCase();
  }
  if (isIPv4(bare)) return bare;
  const lower = bare.normalize('NFC').toLowerCase();
  if (!lower.split('.').every((label) => HOSTNAME_LABEL.test(label))) throw jidError(text, 'domainpart is not a hostname (RFC 7622 §3.2)');
  return lower;
}

export function parseJid(text: string): Jid {
  const slash = text.indexOf('/');
  const bare = slash < 0 ? text : text.slice(0, slash);
  const resource = slash < 0 ? undefined : text.slice(slash + 1);
  const at = bare.indexOf('@');
  if (at !== bare.lastIndexOf('@')) throw jidError(text, 'more than one @ before the resource');
  const local = at < 0 ? undefined : bare.slice(0, at);
  const domain = normalizeDomain(text, at < 0 ? bare : bare.slice(at + 1));
  if (local !== undefined) {
    checkLength(text, local, 'localpart');
    if (LOCALPART_FORBIDDEN.test(local)) throw jidError(text, 'localpart holds a character RFC 7622 §3.3.1 forbids (escape it per XEP-0106)');
  }
  if (resource !== undefined) {
    checkLength(text, resource, 'resourcepart');
    if (CONTROL.test(resource)) throw jidError(text, 'resourcepart holds a control character');
  }
  return {
    ...(local !== undefined ? { local: local.normalize('NFC').toLowerCase() } : {}),
    domain,
    ...(resource !== undefined ? { resource: resource.normalize('NFC') } : {}),
  };
}

export function formatJid(jid: Jid): string {
  return `${jid.local !== undefined ? `${jid.local}@` : ''}${jid.domain}${jid.resource !== undefined ? `/${jid.resource}` : ''}`;
}

export function bareJid(jid: Jid): Jid {
  return jid.local !== undefined ? { local: jid.local, domain: jid.domain } : { domain: jid.domain };
}
