import { parseAuthValue } from '../grammar/auth.js';
import { splitList } from '../grammar/list.js';
import { parseContact, parseNameAddr } from '../grammar/name-addr.js';
import { parseHeaderParams } from '../grammar/params.js';
import { parseVia } from '../grammar/via.js';
import { parseCSeq, parseMaxForwards } from '../grammar/scalars.js';
import { malformed } from '../codec/parse-error.js';
import { headerKey, isListHeader } from './header-names.js';
import type { SipMessage } from './message.js';
import type { NameAddr } from './name-addr.js';
import { getParam } from './uri.js';
import { cachedView } from './view-cache.js';
import type { AuthValue, ChargingVector, Contact, CSeq, Via } from './views.js';

/**
 * Typed, lazily parsed views of a message's headers. Names are case-insensitive and compact
 * forms work (`i`, `f`, `t`, `v`, `m`, `l`, `c`, `k`, `s`, `e`, `o`, `r`, `b`, `x`).
 * A malformed value throws `SipParseError` (status 400): never `any`, never a silent default.
 */

/** Every value of a header: lines in order, comma lists split where the grammar allows. */
export function getHeaders(msg: SipMessage, name: string): string[] {
  const key = headerKey(name);
  if (key === 'content-length') return [String(msg.body.length)];
  const list = isListHeader(key);
  const out: string[] = [];
  for (const h of msg.headers) {
    if (h.name.length !== key.length || h.name.toLowerCase() !== key) continue;
    if (list) for (const v of splitList(h.value)) { if (v.length > 0) out.push(v); }
    else out.push(h.value);
  }
  return out;
}

/** The first value of a header, or `undefined`. */
export function getHeader(msg: SipMessage, name: string): string | undefined {
  const key = headerKey(name);
  if (key === 'content-length') return String(msg.body.length);
  for (const h of msg.headers) {
    if (h.name.length === key.length && h.name.toLowerCase() === key) {
      return isListHeader(key) ? splitList(h.value)[0] : h.value;
    }
  }
  return undefined;
}

export function hasHeader(msg: SipMessage, name: string): boolean {
  return getHeader(msg, name) !== undefined;
}

function required(msg: SipMessage, name: string): string {
  const v = getHeader(msg, name);
  if (v === undefined) throw malformed(`missing ${name} header`);
  return v;
}

/** All Via values, topmost first (RFC 3261 §20.42). */
export function vias(msg: SipMessage): Via[] {
  return cachedView(msg, 'via', () => getHeaders(msg, 'Via').map(parseVia));
}

export function topVia(msg: SipMessage): Via {
  const v = vias(msg)[0];
  if (v === undefined) throw malformed('missing Via header');
  return v;
}

export function from(msg: SipMessage): NameAddr {
  return cachedView(msg, 'from', () => parseNameAddr(required(msg, 'From'), 'From'));
}

export function to(msg: SipMessage): NameAddr {
  return cachedView(msg, 'to', () => parseNameAddr(required(msg, 'To'), 'To'));
}

/** The `tag` parameter of a From/To value. */
export function tagOf(na: NameAddr): string | undefined {
  const t = getParam(na.params, 'tag');
  return typeof t === 'string' ? t : undefined;
}

export function callId(msg: SipMessage): string {
  return cachedView(msg, 'call-id', () => required(msg, 'Call-ID'));
}

export function cseq(msg: SipMessage): CSeq {
  return cachedView(msg, 'cseq', () => parseCSeq(required(msg, 'CSeq').trim()));
}

/** Contact values; `{ star: true }` for `*` (RFC 3261 §10.2.2). */
export function contacts(msg: SipMessage): Contact[] {
  return cachedView(msg, 'contact', () => getHeaders(msg, 'Contact').map(parseContact));
}

/**
 * A header whose values are name-addrs: Route, Record-Route, Path (RFC 3327), Service-Route
 * (RFC 3608), P-Asserted-Identity / P-Preferred-Identity (RFC 3325), P-Associated-URI (RFC 7315).
 */
export function nameAddrList(msg: SipMessage, name: string): NameAddr[] {
  const key = headerKey(name);
  return cachedView(msg, `na:${key}`, () => getHeaders(msg, name).map((v) => parseNameAddr(v, name)));
}

export function maxForwards(msg: SipMessage): number | undefined {
  return cachedView(msg, 'max-forwards', () => {
    const v = getHeader(msg, 'Max-Forwards');
    return v === undefined ? undefined : parseMaxForwards(v);
  });
}

/** The media type, lower-cased, without parameters (`application/sdp`). */
export function contentType(msg: SipMessage): string | undefined {
  const v = getHeader(msg, 'Content-Type');
  return v === undefined ? undefined : mediaTypeOf(v);
}

/** The media type of a Content-Type value, lower-cased, without parameters (RFC 3261 §20.15). */
export function mediaTypeOf(contentTypeValue: string): string {
  const semi = contentTypeValue.indexOf(';');
  return (semi >= 0 ? contentTypeValue.slice(0, semi) : contentTypeValue).trim().toLowerCase();
}

/** The Expires header in seconds; overlarge values are capped at 2^32-1 (RFC 3261 §20.19). */
export function expires(msg: SipMessage): number | undefined {
  const v = getHeader(msg, 'Expires');
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw malformed('invalid Expires');
  return Math.min(Number(v), 4294967295);
}

/** Challenges or credentials of one header (`WWW-Authenticate`, `Authorization`, ...). */
export function authValues(msg: SipMessage, name: string): AuthValue[] {
  const key = headerKey(name);
  return cachedView(msg, `auth:${key}`, () => getHeaders(msg, name).map(parseAuthValue));
}

/** Option tags, lower-cased (Require, Supported, Proxy-Require, Unsupported; RFC 3261 §20). */
export function optionTags(msg: SipMessage, name: string): string[] {
  return getHeaders(msg, name).map((t) => t.toLowerCase());
}

/** Privacy values (RFC 3323 §4.2: `priv-value *(";" priv-value)`), lower-cased. */
export function privacy(msg: SipMessage): string[] {
  const out: string[] = [];
  for (const v of getHeaders(msg, 'Privacy')) {
    for (const part of v.split(';')) {
      const p = part.trim().toLowerCase();
      if (p.length > 0) out.push(p);
    }
  }
  return out;
}

/** P-Charging-Vector (RFC 7315 §4.6): `icid-value=...;orig-ioi=...`. */
export function chargingVector(msg: SipMessage): ChargingVector | undefined {
  const v = getHeader(msg, 'P-Charging-Vector');
  if (v === undefined) return undefined;
  const params = parseHeaderParams(';' + v, 0, 'P-Charging-Vector');
  const icid = getParam(params, 'icid-value');
  if (typeof icid !== 'string') throw malformed('P-Charging-Vector without icid-value');
  return { icidValue: icid.replace(/^"|"$/g, ''), params };
}

/** The body as UTF-8 text. */
export function bodyText(msg: SipMessage): string {
  return Buffer.from(msg.body.buffer, msg.body.byteOffset, msg.body.byteLength).toString('utf8');
}
