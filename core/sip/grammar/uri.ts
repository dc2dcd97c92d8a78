import { isIPv4, isIPv6 } from 'node:net';
import { malformed } from '../codec/parse-error.js';
import type { AbsoluteUri, SipParam, SipUri, TelUri, Uri } from '../model/uri.js';
import { HOST, PARAM, PASSWORD, SCHEME, TEL, URI_HEADER, USER, inClass, isDigit } from './chars.js';
import { escapeComponent, unescapeComponent } from './escape.js';

/**
 * Parses a URI written without surrounding `<>` or whitespace (RFC 3261 §19.1, §25.1).
 * sip/sips and tel are parsed; any other well-formed scheme is kept opaque (RFC 4475
 * §3.3.2-3.3.3: the message is well-formed, the element answers 416 if it cannot serve it).
 */
export function parseUri(text: string): Uri {
  const colon = text.indexOf(':');
  if (colon <= 0) throw malformed(`not a URI: ${JSON.stringify(text.slice(0, 40))}`);
  const first = text.charCodeAt(0);
  const isAlpha = (first >= 65 && first <= 90) || (first >= 97 && first <= 122);
  for (let i = 0; i < colon; i++) {
    if (!isAlpha || !inClass(SCHEME, text.charCodeAt(i))) throw malformed(`bad URI scheme in ${JSON.stringify(text.slice(0, 40))}`);
  }
  const scheme = text.slice(0, colon).toLowerCase();
  const rest = text.slice(colon + 1);
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(scheme, rest);
  if (scheme === 'tel') return parseTelUri(rest);
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    // absoluteURI has no whitespace, quotes or angle brackets (RFC 3261 §25.1 uric).
    if (c <= 32 || c === 34 || c === 60 || c === 62 || c === 127) throw malformed(`invalid character in ${scheme}: URI`);
  }
  if (rest.length === 0) throw malformed(`empty ${scheme}: URI`);
  const uri: AbsoluteUri = { kind: 'absolute', scheme, opaque: rest };
  return uri;
}

function parseSipUri(scheme: 'sip' | 'sips', rest: string): SipUri {
  let i = 0;
  let user: string | undefined;
  let password: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const pw = userinfo.indexOf(':');
    const rawUser = pw >= 0 ? userinfo.slice(0, pw) : userinfo;
    if (rawUser.length === 0) throw malformed('empty user part in SIP URI');
    user = unescapeComponent(rawUser, USER, 'SIP URI user part');
    if (pw >= 0) password = unescapeComponent(userinfo.slice(pw + 1), PASSWORD, 'SIP URI password');
    i = at + 1;
  }
  // host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1, RFC 5118 §4)
  let host: string;
  if (rest.charCodeAt(i) === 91 /* [ */) {
    const close = rest.indexOf(']', i);
    if (close < 0) throw malformed('unterminated IPv6 reference in SIP URI');
    const address = rest.slice(i + 1, close);
    // RFC 5118 §4.10: the 3261 ABNF admits `2001:db8:::192.0.2.1`; a real IPv6 parser does not.
    if (!isIPv6(address)) throw malformed(`invalid IPv6 reference [${address}]`);
    host = rest.slice(i, close + 1);
    i = close + 1;
  } else {
    const start = i;
    while (i < rest.length && inClass(HOST, rest.charCodeAt(i))) i++;
    host = rest.slice(start, i);
    if (host.length === 0) throw malformed('missing host in SIP URI');
  }
  let port: number | undefined;
  if (rest.charCodeAt(i) === 58 /* : */) {
    const start = ++i;
    while (i < rest.length && isDigit(rest.charCodeAt(i))) i++;
    // RFC 5118 §4.2: `sip:2001:db8::10` (IPv6 without brackets) fails here.
    if (i === start || i - start > 5) throw malformed('invalid port in SIP URI');
    port = Number(rest.slice(start, i));
    if (port > 65535) throw malformed('port out of range in SIP URI');
  }
  const params: SipParam[] = [];
  while (rest.charCodeAt(i) === 59 /* ; */) {
    const start = ++i;
    while (i < rest.length && rest.charCodeAt(i) !== 59 && rest.charCodeAt(i) !== 63) i++;
    params.push(splitParam(rest.slice(start, i), PARAM, 'URI parameter'));
  }
  const headers: SipParam[] = [];
  if (rest.charCodeAt(i) === 63 /* ? */) {
    for (const part of rest.slice(i + 1).split('&')) headers.push(splitParam(part, URI_HEADER, 'URI header'));
    i = rest.length;
  }
  if (i !== rest.length) throw malformed(`unexpected ${JSON.stringify(rest[i])} in SIP URI`);
  const uri: { -readonly [K in keyof SipUri]: SipUri[K] } = { kind: 'sip', scheme, host, params, headers };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return uri;
}

function splitParam(text: string, cls: Uint8Array, what: string): SipParam {
  const eq = text.indexOf('=');
  const rawName = eq >= 0 ? text.slice(0, eq) : text;
  if (rawName.length === 0) throw malformed(`empty ${what} name`);
  const name = unescapeComponent(rawName, cls, what);
  if (eq < 0) return { name, value: null };
  return { name, value: unescapeComponent(text.slice(eq + 1), cls, what) };
}

function parseTelUri(rest: string): TelUri {
  const semi = rest.indexOf(';');
  const number = semi >= 0 ? rest.slice(0, semi) : rest;
  if (number.length === 0) throw malformed('empty tel: number');
  for (let i = 0; i < number.length; i++) {
    const c = number.charCodeAt(i);
    // RFC 3966 phonedigit-hex and visual separators.
    if (!inClass(TEL, c) && !((c >= 65 && c <= 70) || (c >= 97 && c <= 102))) throw malformed('invalid tel: number');
  }
  const params: SipParam[] = [];
  if (semi >= 0) for (const part of rest.slice(semi + 1).split(';')) params.push(splitParam(part, PARAM, 'tel: parameter'));
  return { kind: 'tel', scheme: 'tel', number, params };
}

/** Serializes a URI in canonical form (inverse of parseUri). */
export function formatUri(uri: Uri): string {
  if (uri.kind === 'absolute') return `${uri.scheme}:${uri.opaque}`;
  if (uri.kind === 'tel') return `tel:${uri.number}${formatUriParams(uri.params)}`;
  let out = uri.scheme + ':';
  if (uri.user !== undefined) {
    out += escapeComponent(uri.user, USER);
    if (uri.password !== undefined) out += ':' + escapeComponent(uri.password, PASSWORD);
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += ':' + uri.port;
  out += formatUriParams(uri.params);
  if (uri.headers.length > 0) {
    out += '?' + uri.headers.map((h) => escapeComponent(h.name, URI_HEADER) + '=' + escapeComponent(h.value ?? '', URI_HEADER)).join('&');
  }
  return out;
}

function formatUriParams(params: readonly SipParam[]): string {
  let out = '';
  for (const p of params) {
    out += ';' + escapeComponent(p.name, PARAM);
    if (p.value !== null) out += '=' + escapeComponent(p.value, PARAM);
  }
  return out;
}

/** True when `host` is an IP address (IPv6 with or without brackets). */
export function isIpHost(host: string): boolean {
  if (host.startsWith('[')) return isIPv6(host.slice(1, -1));
  return isIPv4(host) || isIPv6(host);
}
