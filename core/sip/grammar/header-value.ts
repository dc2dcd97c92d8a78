/**
 * The one check every built header value passes (RFC 3261 §25.1): no CR or LF (we never fold
 * lines, so either would end the header and start another: header injection), and no NUL
 * except as the escaped octet of a quoted-pair (`\` NUL, RFC 3261 §25.1, RFC 4475 §3.1.1.2).
 * A loop over char codes, no regular expression: builders run on the forwarding path.
 */
import { SipBuildError } from '../model/build-error.js';
import { TOKEN, isAllClass } from './chars.js';

const NAMES: Readonly<Record<number, string>> = { 0: 'NUL', 10: 'LF', 13: 'CR' };

/** Index of the first character a header value may not hold, or -1. */
export function forbiddenHeaderChar(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 13) continue;
    if (c === 13 || c === 10) return i;
    if (c === 0 && (i === 0 || value.charCodeAt(i - 1) !== 92 /* \ */)) return i;
  }
  return -1;
}

/** Throws SipBuildError when `value` holds CR, LF or a bare NUL. */
export function checkHeaderValue(value: string, what: string): string {
  if (typeof value !== 'string') throw new SipBuildError(what, `must be a string (got ${typeof value})`);
  const at = forbiddenHeaderChar(value);
  if (at >= 0) throw new SipBuildError(what, `${NAMES[value.charCodeAt(at)] ?? 'control character'} is not allowed in a SIP header value (RFC 3261 §25.1)`);
  return value;
}

/** header-name = token (RFC 3261 §25.1): `X-Evil: 1\r\n` or `X Evil` would forge a line. */
export function checkHeaderName(name: string): string {
  if (typeof name !== 'string' || !isAllClass(TOKEN, name)) throw new SipBuildError('header name', `${JSON.stringify(String(name).slice(0, 40))} is not a token (RFC 3261 §25.1)`);
  return name;
}
