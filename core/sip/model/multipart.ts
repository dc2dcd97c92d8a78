/**
 * multipart/* SIP bodies (RFC 5621, RFC 2046 §5.1), e.g. the SDP beside the 3GPP CW indication
 * (TS 24.615 A.1: multipart/mixed with application/sdp and application/vnd.3gpp.cw+xml). Parts
 * are byte ranges of the original body, so a part can be replaced while every other byte —
 * other parts, delimiters, preamble, epilogue — stays exactly as it came (R-MMTEL-1).
 */
import { contentType, getHeader, mediaTypeOf } from './access.js';
import { withBody } from './edit.js';
import type { SipMessage } from './message.js';

export interface BodyPart {
  /** The part's media type, lower case without parameters ('text/plain' when absent, RFC 2046 §5.1). */
  readonly type: string;
  /** The part's Content-Type value as sent (parameters included). */
  readonly contentType: string;
  /** The part's headers as sent (name, value), in order. */
  readonly headers: readonly (readonly [string, string])[];
  /** The part's body bytes (a view of the message body). */
  readonly body: Uint8Array;
  /** Byte offsets of the part's body within the whole multipart body. */
  readonly start: number;
  readonly end: number;
}

const SDP = 'application/sdp';

/** RFC 2046 §5.1.1: the boundary parameter of a multipart/* Content-Type, unquoted. */
export function multipartBoundary(message: SipMessage): string | undefined {
  const value = getHeader(message, 'Content-Type');
  if (value === undefined || !/^\s*multipart\//i.test(value)) return undefined;
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(value);
  return match?.[1] ?? match?.[2];
}

/** The headers of a part (text before the blank line), unfolded. */
function partHeaders(text: string): [string, string][] {
  const headers: [string, string][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      const last = headers[headers.length - 1];
      if (last) last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return headers;
}

/**
 * The parts of a multipart body, or undefined when the message is not multipart or its body
 * does not follow RFC 2046 §5.1.1 (no opening delimiter, no close delimiter).
 */
export function bodyParts(message: SipMessage): BodyPart[] | undefined {
  const boundary = multipartBoundary(message);
  if (boundary === undefined) return undefined;
  const body = message.body;
  // latin1: one character per byte, so string offsets are byte offsets.
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  const delimiter = `--${boundary}`;
  let at = text.startsWith(delimiter) ? 0 : text.indexOf(`\n${delimiter}`);
  if (at < 0) return undefined;
  if (at > 0) at += 1;
  const parts: BodyPart[] = [];
  for (;;) {
    const afterDelimiter = at + delimiter.length;
    if (text.startsWith('--', afterDelimiter)) return parts; // the close delimiter
    const lineEnd = text.indexOf('\n', afterDelimiter); // transport padding up to the CRLF
    if (lineEnd < 0) return undefined;
    const partStart = lineEnd + 1;
    const next = text.indexOf(`\n${delimiter}`, partStart - 1);
    if (next < 0) return undefined;
    // RFC 2046 §5.1.1: the CRLF before the boundary belongs to the delimiter, not to the part.
    const partEnd = next > partStart - 1 && text[next - 1] === '\r' ? next - 1 : Math.max(next, partStart);
    const part = text.slice(partStart, partEnd);
    const blank = /\r?\n\r?\n/.exec(part);
    const startsBlank = /^\r?\n/.exec(part);
    const headerText = startsBlank ? '' : blank ? part.slice(0, blank.index) : part;
    const bodyOffset = startsBlank ? startsBlank[0].length : blank ? blank.index + blank[0].length : part.length;
    const headers = partHeaders(headerText);
    const contentType = headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? 'text/plain';
    const start = partStart + bodyOffset;
    parts.push({
      type: mediaTypeOf(contentType),
      contentType, headers, body: body.subarray(start, partEnd), start, end: partEnd,
    });
    at = next + 1;
  }
}

/** The SDP of a message: its whole body (application/sdp) or the first SDP part of a multipart body. */
export function sdpOf(message: SipMessage): string | undefined {
  if (message.body.length === 0) return undefined;
  if (contentType(message) === SDP) return Buffer.from(message.body).toString('utf8');
  const part = bodyParts(message)?.find((p) => p.type === SDP);
  return part === undefined ? undefined : Buffer.from(part.body).toString('utf8');
}

/**
 * `message` with its SDP replaced by `sdp`: the whole body for application/sdp, else only the
 * SDP part's bytes of the multipart body (Content-Type and every other byte unchanged, R-MMTEL-1).
 */
export function withSdp<M extends SipMessage>(message: M, sdp: string): M {
  const part = bodyParts(message)?.find((p) => p.type === SDP);
  if (part === undefined) return withBody(message, sdp, SDP);
  const body = message.body;
  const spliced = Buffer.concat([body.subarray(0, part.start), Buffer.from(sdp, 'utf8'), body.subarray(part.end)]);
  return withBody(message, spliced);
}

/** The parts of a multipart body other than the SDP (R-MMTEL-3: opaque typed attachments for non-SIP clients). */
export function nonSdpParts(message: SipMessage): BodyPart[] {
  return (bodyParts(message) ?? []).filter((p) => p.type !== SDP);
}
