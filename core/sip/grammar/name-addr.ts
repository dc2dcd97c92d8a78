import { malformed } from '../codec/parse-error.js';
import type { NameAddr } from '../model/name-addr.js';
import type { Contact } from '../model/views.js';
import { TOKEN, inClass, isWs, skipWs } from './chars.js';
import { formatHeaderParams, parseHeaderParams } from './params.js';
import { quote, readQuoted } from './quoted.js';
import { formatUri, parseUri } from './uri.js';

/**
 * One `(name-addr / addr-spec) *(SEMI param)` element (From, To, Contact, Route, PAI, ...),
 * RFC 3261 §20.10 and §25.1.
 * - `<sip:a;p>`: `p` is a URI parameter; `sip:a;p`: `p` is a header parameter (RFC 4475 §3.3.12-13).
 * - An addr-spec may not contain `,` `;` or `?` (RFC 3261 §20): `sip:u@h?Route=...` without
 *   `<>` is a 400 (RFC 4475 §3.1.2.13).
 * - Display names are a quoted-string or tokens; `caller<sip:..>` without LWS is accepted
 *   (RFC 4475 §3.1.1.6), an unquoted non-token (`Bell, Alexander`) is a 400 (§3.1.2.15).
 * - No whitespace inside `<>` (RFC 4475 §3.1.2.14).
 */
export function parseNameAddr(text: string, what = 'name-addr'): NameAddr {
  const s = text;
  let i = skipWs(s, 0);
  let displayName: string | undefined;
  if (s.charCodeAt(i) === 34 /* " */) {
    const q = readQuoted(s, i);
    displayName = q.text;
    i = skipWs(s, q.end);
    if (s.charCodeAt(i) !== 60) throw malformed(`expected '<' after display name in ${what}`);
  } else if (s.charCodeAt(i) !== 60 /* < */) {
    // Either tokens of a display name followed by '<', or an addr-spec (scheme ':' ...).
    const words: string[] = [];
    for (;;) {
      const start = i;
      while (i < s.length && inClass(TOKEN, s.charCodeAt(i))) i++;
      if (i === start) throw malformed(`invalid character ${JSON.stringify(s[i] ?? 'end')} in ${what}`);
      if (words.length === 0 && s.charCodeAt(i) === 58 /* : */) return parseAddrSpec(s, start, what);
      words.push(s.slice(start, i));
      i = skipWs(s, i);
      if (s.charCodeAt(i) === 60) break;
      if (i >= s.length) throw malformed(`missing URI in ${what}`);
    }
    displayName = words.join(' ');
  }
  // s[i] === '<'
  const close = s.indexOf('>', i);
  if (close < 0) throw malformed(`missing '>' in ${what}`);
  const uriText = s.slice(i + 1, close);
  if (uriText.length === 0 || isWs(uriText.charCodeAt(0)) || isWs(uriText.charCodeAt(uriText.length - 1))) {
    throw malformed(`whitespace inside <> in ${what}`);
  }
  const uri = parseUri(uriText);
  const params = parseHeaderParams(s, close + 1, what);
  return displayName === undefined ? { uri, params } : { displayName, uri, params };
}

function parseAddrSpec(s: string, start: number, what: string): NameAddr {
  let end = start;
  while (end < s.length && s.charCodeAt(end) !== 59 && !isWs(s.charCodeAt(end))) end++;
  const uriText = s.slice(start, end);
  if (uriText.indexOf('?') >= 0) throw malformed(`URI with headers must be enclosed in <> in ${what}`);
  const uri = parseUri(uriText);
  return { uri, params: parseHeaderParams(s, end, what) };
}

/** A Contact element: `*` or a binding (RFC 3261 §20.10). */
export function parseContact(text: string): Contact {
  if (text.trim() === '*') return { star: true };
  return parseNameAddr(text, 'Contact');
}

/**
 * Canonical form: `"Display" <uri>;params` (always bracketed, so URI params stay URI params).
 * The display name is always a quoted-string, `"` and `\` escaped as quoted-pairs; CR or LF in
 * it is refused (SipBuildError), RFC 3261 §25.1.
 */
export function formatNameAddr(na: NameAddr): string {
  const display = na.displayName !== undefined && na.displayName.length > 0 ? quote(na.displayName, 'display name') + ' ' : '';
  return `${display}<${formatUri(na.uri)}>${formatHeaderParams(na.params)}`;
}
