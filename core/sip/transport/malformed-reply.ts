import type { SipHeader, SipResponse } from '../model/message.js';
import { canonicalHeaderName, headerKey } from '../model/header-names.js';
import type { SipParseError } from '../codec/parse-error.js';
import { parseMessage } from '../codec/parse.js';
import { cseq, callId, from, to, vias } from '../model/access.js';
import { createResponse } from '../model/edit.js';
import { generateTag } from '../ids.js';

/** Headers a response must copy from its request (RFC 3261 §8.2.6.2). */
const COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'timestamp']);

/** Reason phrases are one line of text; keep them short and free of control characters. */
const MAX_REASON_LENGTH = 120;

/**
 * The answer to a request the parser rejected: built only from the headers a response needs,
 * read line by line from the raw bytes, so one broken header elsewhere does not prevent it.
 *
 * Returns `undefined` when no answer may be sent: the bytes are a response (RFC 3261 §18.1.2:
 * malformed responses are discarded), an ACK (never answered, §17.2.1), or — on a datagram or
 * shared transport — Via, From, To, Call-ID or CSeq is missing or unparsable, so the answer could
 * not be routed or matched (RFC 3261 §8.2.6, §18.2.2).
 *
 * With `sameConnection` (a WebSocket or other connection that belongs to one client, RFC 7118),
 * the answer needs no Via to find its way: a request whose mandatory headers are broken still
 * gets its 400, echoing the copied header lines as they were (RFC 4475 §3.1.2 names a 400 for
 * each of those messages).
 */
export function buildMalformedReply(raw: Uint8Array, error: SipParseError, options: { sameConnection?: boolean } = {}): SipResponse | undefined {
  if (error.status === 'drop') return undefined;
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  const headerEnd = text.indexOf('\r\n\r\n');
  const head = headerEnd === -1 ? text : text.slice(0, headerEnd);
  const lines = unfold(head.replace(/^(?:\r\n)+/, '').split('\r\n'));
  const startLine = lines[0] ?? '';
  if (startLine.startsWith('SIP/')) return undefined;
  if (/^ACK\s/i.test(startLine)) return undefined;

  const kept: string[] = [];
  let method = 'OPTIONS';
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = headerKey(line.slice(0, colon).trim());
    if (!COPIED.has(key)) continue;
    kept.push(line);
    // The parser insists that the Request-Line method equals the CSeq method (RFC 3261 §8.1.1.5).
    if (key === 'cseq') method = line.slice(colon + 1).trim().split(/\s+/).pop() ?? method;
  }
  const status = typeof error.status === 'number' && error.status >= 400 && error.status <= 699 ? error.status : 400;
  // Only something that reads as a SIP request gets the verbatim answer; other bytes are dropped.
  const looksLikeRequest = /^[A-Za-z0-9!%*_+`'~.-]+ \S+ SIP\/\d/.test(startLine);
  const verbatim = (): SipResponse | undefined => options.sameConnection && looksLikeRequest
    ? { kind: 'response', status, reason: reasonPhrase(error.reason, status), headers: kept.map(toHeader), body: new Uint8Array(0) }
    : undefined;
  try {
    // Reuse the real parser on a synthetic request holding only the copied headers: what it
    // accepts is exactly what createResponse() can echo.
    const skeleton = parseMessage(`${method} sip:malformed.invalid SIP/2.0\r\n${kept.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`);
    if (skeleton.kind !== 'request') return verbatim();
    if (vias(skeleton).length === 0) return verbatim();
    from(skeleton);
    to(skeleton);
    callId(skeleton);
    if (cseq(skeleton).method.toUpperCase() === 'ACK') return undefined;
    return createResponse(skeleton, status, reasonPhrase(error.reason, status), { toTag: generateTag() });
  } catch {
    return verbatim();
  }
}

function toHeader(line: string): SipHeader {
  const colon = line.indexOf(':');
  return { name: canonicalHeaderName(line.slice(0, colon).trim()), value: line.slice(colon + 1).trim() };
}

/** RFC 3261 §7.3.1: a line starting with whitespace continues the previous header. */
function unfold(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const last = out.length - 1;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last > 0) out[last] = `${out[last]} ${line.trim()}`;
    else out.push(line);
  }
  return out;
}

/** A parse error's reason as a reason phrase: one short line without control characters. */
export function reasonPhrase(reason: string, status: number): string {
  // eslint-disable-next-line no-control-regex
  const clean = reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, MAX_REASON_LENGTH);
  if (clean.length > 0) return clean;
  return status === 400 ? 'Bad Request' : 'Malformed Request';
}
