import { canonicalHeaderName, canonicalNameForKey, headerKey } from '../model/header-names.js';
import type { SipHeader, SipMessage, SipRequest, SipResponse } from '../model/message.js';
import type { NameAddr } from '../model/name-addr.js';
import { primeViews } from '../model/view-cache.js';
import type { Contact, CSeq, Via } from '../model/views.js';
import { DIGITS, TOKEN, WORD, isAllClass, isWs } from '../grammar/chars.js';
import { parseCSeq, parseMaxForwards } from '../grammar/scalars.js';
import { splitList } from '../grammar/list.js';
import { parseContact, parseNameAddr } from '../grammar/name-addr.js';
import { parseUri } from '../grammar/uri.js';
import { parseVia } from '../grammar/via.js';
import { SipParseError, malformed } from './parse-error.js';

export interface ParseOptions {
  /**
   * The data is one whole datagram or WebSocket message (RFC 3261 §18.3, RFC 7118 §5):
   * without Content-Length the body is the rest of the data, and octets after Content-Length
   * are ignored (RFC 4475 §3.1.1.8). Otherwise the data must be exactly one framed message.
   */
  readonly datagram?: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Every message without a body shares this one (bodies are never written to in place). */
const EMPTY_BODY = new Uint8Array(0);

/** Parses one SIP message or throws a `SipParseError` carrying the status to answer. */
export function parseMessage(data: Uint8Array | string, options: ParseOptions = {}): SipMessage {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // RFC 3261 §7.5: CRLFs before the start-line are ignored.
  let start = 0;
  while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
  const isResponse = buf.length >= start + 4 && buf.toString('latin1', start, start + 4) === 'SIP/';
  try {
    return parseAt(buf, start, options.datagram === true);
  } catch (err) {
    if (isResponse && err instanceof SipParseError && err.status !== 'drop') throw new SipParseError(err.reason, 'drop');
    if (err instanceof SipParseError) throw err;
    throw malformed(`unparseable message: ${(err as Error).message}`);
  }
}

function parseAt(buf: Buffer, start: number, datagram: boolean): SipMessage {
  let headEnd = buf.indexOf(CRLFCRLF, start);
  let bodyStart = headEnd + 4;
  if (headEnd < 0) {
    // A datagram whose header section ends at the end of the data (no empty line): read the
    // headers so that the answer names the real defect; it has no body.
    if (!datagram || buf.length < 2 || buf[buf.length - 2] !== 13 || buf[buf.length - 1] !== 10) {
      throw malformed('header section not terminated by an empty line');
    }
    headEnd = buf.length - 2;
    bodyStart = buf.length;
  }
  const lines = buf.toString('utf8', start, headEnd).split('\r\n');
  const startLine = lines[0] ?? '';

  const headers: SipHeader[] = [];
  const contentLengths: string[] = [];
  let callId: string | undefined;
  let fromValue: string | undefined;
  let toValue: string | undefined;
  let cseqValue: string | undefined;
  let maxForwards: string | undefined;
  let hasListed = false; // any Via/Contact line seen (validated below)
  let lastKey = '';
  // RFC 3261 §7.3.1 folding: the continuation lines of the current header, joined once when the
  // next header starts (joining per line re-copies a growing value: quadratic on a long fold).
  let folded: string[] | undefined;
  const unfold = (): void => {
    if (folded === undefined) return;
    const parts = folded;
    folded = undefined;
    if (lastKey === 'content-length') {
      const at = contentLengths.length - 1;
      contentLengths[at] = joinFolded(contentLengths[at] ?? '', parts);
      return;
    }
    const last = headers.length - 1;
    const prev = headers[last] as SipHeader;
    const value = joinFolded(prev.value, parts);
    headers[last] = { name: prev.name, value };
    setSingle(lastKey, value, true);
  };
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string;
    if (line.length > 0 && isWs(line.charCodeAt(0))) {
      if (headers.length === 0 && lastKey !== 'content-length') throw malformed('continuation line before the first header');
      const part = line.trim();
      if (part.length > 0) (folded ??= []).push(part);
      continue;
    }
    unfold();
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`header line without a name and ':' (${JSON.stringify(line.slice(0, 30))})`);
    let nameEnd = colon;
    while (nameEnd > 0 && isWs(line.charCodeAt(nameEnd - 1))) nameEnd--;
    const rawName = line.slice(0, nameEnd);
    const known = headerName(rawName);
    const value = line.slice(colon + 1).trim();
    const key = known.key;
    lastKey = key;
    if (key === 'content-length') {
      contentLengths.push(value);
      continue;
    }
    headers.push({ name: known.name, value });
    if (key === 'via' || key === 'contact') hasListed = true;
    else setSingle(key, value, false);
  }
  unfold();

  // RFC 4475 §3.3.8: several Call-ID/To/From/CSeq/Max-Forwards values are a 400.
  function setSingle(key: string, value: string, refold: boolean): void {
    switch (key) {
      case 'call-id': if (callId !== undefined && !refold) throw duplicate(key); callId = value; break;
      case 'from': if (fromValue !== undefined && !refold) throw duplicate(key); fromValue = value; break;
      case 'to': if (toValue !== undefined && !refold) throw duplicate(key); toValue = value; break;
      case 'cseq': if (cseqValue !== undefined && !refold) throw duplicate(key); cseqValue = value; break;
      case 'max-forwards': if (maxForwards !== undefined && !refold) throw duplicate(key); maxForwards = value; break;
      default:
    }
  }

  if (callId === undefined) throw malformed('missing Call-ID header');
  if (fromValue === undefined) throw malformed('missing From header');
  if (toValue === undefined) throw malformed('missing To header');
  if (cseqValue === undefined) throw malformed('missing CSeq header');
  if (!isCallId(callId)) throw malformed('invalid Call-ID');
  const cseq = parseCSeq(cseqValue);
  const views: Record<string, unknown> = {
    'call-id': callId,
    cseq,
    from: parseNameAddr(fromValue, 'From') satisfies NameAddr,
    to: parseNameAddr(toValue, 'To') satisfies NameAddr,
    'max-forwards': maxForwards === undefined ? undefined : parseMaxForwards(maxForwards),
  };

  const vias: Via[] = [];
  const contacts: Contact[] = [];
  for (let n = 0; hasListed && n < headers.length; n++) {
    const h = headers[n] as SipHeader;
    const key = h.name === 'Via' ? 'via' : h.name === 'Contact' ? 'contact' : '';
    if (key === '') continue;
    for (const element of splitList(h.value)) {
      if (element.length === 0) throw malformed(`empty ${key === 'via' ? 'Via' : 'Contact'} value`);
      if (key === 'via') vias.push(parseVia(element));
      else contacts.push(parseContact(element));
    }
  }
  if (vias.length === 0) throw malformed('missing Via header');
  views['via'] = vias;
  views['contact'] = contacts;

  const body = frameBody(buf, bodyStart, contentLengths, datagram);

  let message: SipMessage;
  if (startLine.startsWith('SIP/')) {
    message = parseStatusLine(startLine, headers, body);
  } else {
    message = parseRequestLine(startLine, headers, body, cseq);
  }
  primeViews(message, views);
  return message;
}

/** A folded value: the first line's value and the continuation lines joined by single spaces. */
function joinFolded(first: string, parts: readonly string[]): string {
  return first.length === 0 ? parts.join(' ') : `${first} ${parts.join(' ')}`;
}

/**
 * Header names as written → lookup key and canonical name. Real traffic repeats a few dozen
 * spellings, so the validation and lower-casing run once per spelling; the cache is bounded so
 * a client inventing names cannot grow it.
 */
const NAME_CACHE = new Map<string, { readonly key: string; readonly name: string }>();
const NAME_CACHE_LIMIT = 2048;

function headerName(rawName: string): { readonly key: string; readonly name: string } {
  const cached = NAME_CACHE.get(rawName);
  if (cached !== undefined) return cached;
  if (!isAllClass(TOKEN, rawName)) throw malformed(`invalid header name ${JSON.stringify(rawName)}`);
  const key = headerKey(rawName);
  const entry = { key, name: canonicalNameForKey(key, rawName) };
  if (NAME_CACHE.size < NAME_CACHE_LIMIT) NAME_CACHE.set(rawName, entry);
  return entry;
}

function duplicate(key: string): SipParseError {
  return malformed(`more than one ${canonicalHeaderName(key)} header`);
}

/** callid = word [ "@" word ] (RFC 3261 §25.1). */
function isCallId(value: string): boolean {
  const at = value.indexOf('@');
  if (at < 0) return isAllClass(WORD, value);
  return isAllClass(WORD, value.slice(0, at)) && isAllClass(WORD, value.slice(at + 1));
}

/**
 * Frames the body by Content-Length (RFC 3261 §18.3, §20.14). Negative, non-numeric and
 * conflicting values are a 400 (RFC 4475 §3.1.2.3, §3.3.9); a value larger than the data is a
 * 400 (§3.1.2.2).
 */
function frameBody(buf: Buffer, bodyStart: number, values: string[], datagram: boolean): Uint8Array {
  const available = Math.max(0, buf.length - bodyStart);
  if (values.length === 0) {
    if (datagram) return ownBytes(buf, bodyStart, buf.length);
    if (available > 0) throw malformed('body present without Content-Length');
    return EMPTY_BODY;
  }
  const first = values[0] as string;
  for (const v of values) {
    if (!isAllClass(DIGITS, v)) throw malformed(`invalid Content-Length ${JSON.stringify(v.slice(0, 20))}`);
    if (Number(v) !== Number(first)) throw malformed('conflicting Content-Length values');
  }
  const length = Number(first);
  if (length > available) throw malformed(`Content-Length ${length} larger than the ${available} body bytes received`);
  if (!datagram && length < available) throw malformed('bytes after the body framed by Content-Length');
  return ownBytes(buf, bodyStart, bodyStart + length);
}

/**
 * The body as its own bytes. A view would keep the whole input alive as long as the message
 * lives (a transaction holds it for seconds): a 64 KiB socket read, or an 8 KiB Buffer pool slab
 * shared with other messages.
 */
function ownBytes(buf: Buffer, start: number, end: number): Uint8Array {
  if (end <= start) return EMPTY_BODY;
  const body = new Uint8Array(end - start);
  body.set(buf.subarray(start, end));
  return body;
}

function parseRequestLine(line: string, headers: SipHeader[], body: Uint8Array, cseq: CSeq): SipRequest {
  // Request-Line = Method SP Request-URI SP SIP-Version CRLF: exactly single spaces (RFC 4475 §3.1.2.8-10).
  const parts = line.split(' ');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) {
    throw malformed('malformed Request-Line (need Method SP Request-URI SP SIP-Version)');
  }
  const [method, uriText, version] = parts as [string, string, string];
  checkVersion(version);
  if (!isAllClass(TOKEN, method)) throw malformed('invalid method token');
  let uri;
  try {
    uri = parseUri(uriText);
  } catch (err) {
    throw malformed(`malformed Request-URI: ${(err as SipParseError).reason ?? 'invalid'}`);
  }
  // RFC 3261 §19.1.5 / RFC 4475 §3.1.2.11: escaped headers are never allowed in a Request-URI.
  if (uri.kind === 'sip' && uri.headers.length > 0) throw malformed('headers are not allowed in a Request-URI');
  if (cseq.method !== method) {
    // RFC 4475 §3.1.2.17-18: 400, or 501 when the method itself is unknown.
    const known = KNOWN_METHODS.has(method);
    throw new SipParseError(`CSeq method ${cseq.method} does not match ${method}`, known ? 400 : 501);
  }
  return { kind: 'request', method, uri, headers, body };
}

const KNOWN_METHODS = new Set(['REGISTER', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'UPDATE', 'PRACK', 'REFER']);

function checkVersion(version: string): void {
  if (version.toUpperCase() === 'SIP/2.0') return;
  if (/^SIP\/\d{1,3}\.\d{1,3}$/i.test(version)) throw new SipParseError(`${version} not supported`, 505);
  throw malformed(`invalid SIP-Version ${JSON.stringify(version.slice(0, 20))}`);
}

function parseStatusLine(line: string, headers: SipHeader[], body: Uint8Array): SipResponse {
  // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (the phrase may be empty, RFC 4475 §3.1.1.13).
  const sp1 = line.indexOf(' ');
  if (sp1 < 0) throw new SipParseError('malformed Status-Line', 'drop');
  checkVersion(line.slice(0, sp1));
  const sp2 = line.indexOf(' ', sp1 + 1);
  const code = sp2 < 0 ? line.slice(sp1 + 1) : line.slice(sp1 + 1, sp2);
  if (code.length !== 3 || !isAllClass(DIGITS, code)) throw new SipParseError(`invalid status code ${JSON.stringify(code.slice(0, 12))}`, 'drop');
  const status = Number(code);
  if (status < 100 || status > 699) throw new SipParseError(`status code ${status} outside 100-699`, 'drop');
  const reason = sp2 < 0 ? '' : line.slice(sp2 + 1);
  return { kind: 'response', status, reason, headers, body };
}

