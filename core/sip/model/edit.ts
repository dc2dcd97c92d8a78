import { malformed } from '../codec/parse-error.js';
import { checkHeaderName, checkHeaderValue } from '../grammar/header-value.js';
import { checkMediaType } from '../grammar/media-type.js';
import { parseUri } from '../grammar/uri.js';
import { SipBuildError } from './build-error.js';
import { canonicalHeaderName, headerKey } from './header-names.js';
import type { SipHeader, SipMessage, SipMethod, SipRequest, SipResponse } from './message.js';
import type { Uri } from './uri.js';
import { getHeader, to as toOf, tagOf } from './access.js';
import { isToken } from '../grammar/chars.js';

/**
 * Builders. Messages are immutable: every function returns a new message and shares the
 * unchanged parts (header objects, body bytes) with the original.
 *
 * Every header a builder adds passes one check (RFC 3261 §25.1): the name is a token, the value
 * holds no CR, LF or bare NUL. So no caller, present or future, can start a header line of its
 * own through a value (header injection); the refusal is a SipBuildError naming the header.
 * The check is a loop over the few values a builder adds; parsed headers a message keeps
 * (forwarding) are never looked at again.
 */
export type HeaderInput = readonly (readonly [string, string])[] | readonly SipHeader[];

/** One header line after the RFC 3261 §25.1 checks. */
function headerLine(name: string, value: string): SipHeader {
  const canonical = canonicalHeaderName(checkHeaderName(name));
  return { name: canonical, value: checkHeaderValue(value, `${canonical} header value`) };
}

function toHeaders(input: HeaderInput | undefined): SipHeader[] {
  if (!input) return [];
  return input.map((h) => (Array.isArray(h) ? headerLine(h[0] as string, h[1] as string) : headerLine((h as SipHeader).name, (h as SipHeader).value)));
}

/** RFC 3261 §19.1.1 (table) and §19.1.5: a Request-URI never carries URI headers (`?X=y`). */
function requestUri(uri: Uri | string): Uri {
  const parsed = typeof uri === 'string' ? parseUri(uri) : uri;
  if (parsed.kind === 'sip' && parsed.headers.length > 0) {
    throw new SipBuildError('Request-URI', 'URI headers (?name=value) are not allowed in a Request-URI (RFC 3261 §19.1.1)');
  }
  return parsed;
}

/** Reason-Phrase (RFC 3261 §25.1): text on the status line, never CR, LF or NUL. */
function reasonPhrase(reason: string): string {
  const at = forbiddenReasonChar(reason);
  if (at >= 0) throw new SipBuildError('reason phrase', 'CR, LF and NUL are not allowed in a Reason-Phrase (RFC 3261 §25.1)');
  return reason;
}

function forbiddenReasonChar(reason: string): number {
  for (let i = 0; i < reason.length; i++) {
    const c = reason.charCodeAt(i);
    if (c === 13 || c === 10 || c === 0) return i;
  }
  return -1;
}

function toBody(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** Content-Length is derived from the body at serialization: never store it. */
function dropContentLength(headers: SipHeader[]): SipHeader[] {
  return headers.filter((h) => headerKey(h.name) !== 'content-length');
}

export interface RequestInit {
  readonly method: SipMethod;
  readonly uri: Uri | string;
  readonly headers?: HeaderInput;
  readonly body?: Uint8Array | string;
}

export function createRequest(init: RequestInit): SipRequest {
  const uri = requestUri(init.uri);
  return { kind: 'request', method: checkMethod(init.method), uri, headers: dropContentLength(toHeaders(init.headers)), body: toBody(init.body) };
}

/** Method = token (RFC 3261 §25.1): it opens the request line. */
function checkMethod(method: string): string {
  if (typeof method !== 'string' || !isToken(method)) throw new SipBuildError('method', `${JSON.stringify(String(method).slice(0, 20))} is not a token (RFC 3261 §25.1)`);
  return method;
}

export interface ResponseInit {
  readonly headers?: HeaderInput;
  /** Added to To when the request's To has no tag (RFC 3261 §8.2.6.2). */
  readonly toTag?: string;
  readonly body?: Uint8Array | string;
  readonly contentType?: string;
}

/** Default reason phrases (RFC 3261 §21 and extensions used here). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 204: 'No Notification', 300: 'Multiple Choices', 301: 'Moved Permanently',
  302: 'Moved Temporarily', 305: 'Use Proxy', 380: 'Alternative Service', 400: 'Bad Request',
  401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone',
  413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme', 420: 'Bad Extension', 421: 'Extension Required', 423: 'Interval Too Brief',
  430: 'Flow Failed', 433: 'Anonymity Disallowed', 439: 'First Hop Lacks Outbound Support',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected',
  483: 'Too Many Hops', 484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated',
  488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending', 493: 'Undecipherable',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large', 580: 'Precondition Failure',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

/**
 * A response to `req` (RFC 3261 §8.2.6.2): Via (all, in order), From, Call-ID, CSeq and
 * Timestamp copied, To copied with `toTag` added if it has none; then `init.headers`.
 */
export function createResponse(req: SipRequest, status: number, reason?: string, init: ResponseInit = {}): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw malformed(`status ${status} outside 100-699`);
  const headers: SipHeader[] = [];
  for (const h of req.headers) {
    const key = h.name.toLowerCase();
    if (key === 'via' || key === 'from' || key === 'call-id' || key === 'cseq' || key === 'timestamp') headers.push(h);
    else if (key === 'to') {
      // A 100 Trying never carries a To tag it did not receive (RFC 3261 §8.2.6.2).
      if (init.toTag !== undefined && status > 100 && tagOf(toOf(req)) === undefined) headers.push({ name: 'To', value: `${h.value};tag=${init.toTag}` });
      else headers.push(h);
    }
  }
  headers.push(...toHeaders(init.headers));
  if (init.contentType !== undefined) headers.push({ name: 'Content-Type', value: checkMediaType(init.contentType) });
  return {
    kind: 'response', status, reason: reason !== undefined ? reasonPhrase(reason) : REASON_PHRASES[status] ?? 'Unknown',
    headers: dropContentLength(headers), body: toBody(init.body),
  };
}

function rebuild<M extends SipMessage>(msg: M, headers: SipHeader[]): M {
  return { ...msg, headers };
}

/**
 * Does a header line carry `key` (lower-case long form)? Names in a message are canonical
 * (parser and builders canonicalise), so the identity check answers nearly every line without
 * lower-casing; the length check skips the rest of the mismatches.
 */
function isNamed(h: SipHeader, key: string, canonical: string): boolean {
  return h.name === canonical || (h.name.length === key.length && h.name.toLowerCase() === key);
}

/** Replaces every occurrence of `name` with the given value(s), at the first occurrence's place. */
export function setHeader<M extends SipMessage>(msg: M, name: string, value: string | readonly string[]): M {
  const key = headerKey(checkHeaderName(name));
  const canonical = canonicalHeaderName(name);
  const values = typeof value === 'string' ? [value] : value;
  for (const v of values) checkHeaderValue(v, `${canonical} header value`);
  const out: SipHeader[] = [];
  let placed = false;
  for (const h of msg.headers) {
    if (isNamed(h, key, canonical)) {
      if (!placed) for (const v of values) out.push({ name: canonical, value: v });
      placed = true;
    } else out.push(h);
  }
  if (!placed) for (const v of values) out.push({ name: canonical, value: v });
  return rebuild(msg, out);
}

/**
 * Adds a header line. `first: true` puts it before the existing lines of the same name (where
 * Via and Record-Route go, RFC 3261 §16.6), or at the top when there are none.
 */
export function addHeader<M extends SipMessage>(msg: M, name: string, value: string, options: { first?: boolean } = {}): M {
  const entry = headerLine(name, value);
  if (!options.first) return rebuild(msg, [...msg.headers, entry]);
  const key = headerKey(name);
  const at = msg.headers.findIndex((h) => isNamed(h, key, entry.name));
  const out = [...msg.headers];
  out.splice(at < 0 ? 0 : at, 0, entry);
  return rebuild(msg, out);
}

/** Without any line of `name`; the message itself when it has none (messages are immutable). */
export function removeHeader<M extends SipMessage>(msg: M, name: string): M {
  const key = headerKey(name);
  const canonical = canonicalHeaderName(name);
  const at = msg.headers.findIndex((h) => isNamed(h, key, canonical));
  if (at < 0) return msg;
  return rebuild(msg, msg.headers.filter((h, i) => i < at || !isNamed(h, key, canonical)));
}

/** Replaces the body (and Content-Type when given; an empty body drops Content-Type). */
export function withBody<M extends SipMessage>(msg: M, body: Uint8Array | string, contentType?: string): M {
  const bytes = toBody(body);
  let next: M = { ...msg, body: bytes };
  if (contentType !== undefined) next = setHeader(next, 'Content-Type', checkMediaType(contentType));
  else if (bytes.length === 0 && getHeader(next, 'Content-Type') !== undefined) next = removeHeader(next, 'Content-Type');
  return next;
}

export function withUri(req: SipRequest, uri: Uri | string): SipRequest {
  return { ...req, uri: requestUri(uri) };
}

export function withHeaders<M extends SipMessage>(msg: M, headers: HeaderInput): M {
  return rebuild(msg, dropContentLength(toHeaders(headers)));
}
