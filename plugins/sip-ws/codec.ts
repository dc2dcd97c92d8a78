/**
 * RFC 7118 framing: one SIP message per WebSocket message, in both directions (§5, R-SIPWS-4),
 * text or binary (§4.2, R-SIPWS-3). Pure functions, no session state.
 */
import { isUtf8 } from 'node:buffer';
import { parseMessage, serializeMessage, SipParseError } from '../../core/contract/index.js';
import type { SipMessage } from '../../core/contract/index.js';
import type { W2Frame } from '../../core/contract/index.js';

/** What one inbound WebSocket message turned out to be. */
export type DecodedFrame =
  | { readonly kind: 'message'; readonly message: SipMessage; readonly bytes: Buffer }
  /** A CRLF keep-alive ping ("\r\n\r\n", RFC 5626 §4.4.1 as JsSIP/SIP.js use it over WS). */
  | { readonly kind: 'ping' }
  /** A lone CRLF (a keep-alive pong) or an empty frame: nothing to do. */
  | { readonly kind: 'ignore' }
  | { readonly kind: 'malformed'; readonly error: SipParseError; readonly bytes: Buffer };

const PING = '\r\n\r\n';
/** The keep-alive answer (RFC 5626 §4.4.1: the pong is a single CRLF). */
export const KEEPALIVE_PONG = '\r\n';

/** The frame as octets (text frames are UTF-8 on the wire, RFC 6455 §5.6). */
export function frameBytes(frame: W2Frame): Buffer {
  if (typeof frame === 'string') return Buffer.from(frame, 'utf8');
  return Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}

/**
 * Decodes one WebSocket message. RFC 7118 §5: the message boundary is the frame boundary, so the
 * parser runs in datagram mode (a missing Content-Length means "the rest of the frame", octets
 * after Content-Length are ignored).
 */
export function decodeFrame(frame: W2Frame, maxMessageBytes: number): DecodedFrame {
  const bytes = frameBytes(frame);
  if (isOnlyCrlf(bytes)) return bytes.length === PING.length ? { kind: 'ping' } : { kind: 'ignore' };
  if (bytes.length > maxMessageBytes) {
    // RFC 3261 §21.5.14: 513 Message Too Large.
    return { kind: 'malformed', error: new SipParseError(`message of ${bytes.length} bytes exceeds ${maxMessageBytes}`, 513), bytes };
  }
  try {
    return { kind: 'message', message: parseMessage(bytes, { datagram: true }), bytes };
  } catch (error) {
    if (error instanceof SipParseError) return { kind: 'malformed', error, bytes };
    return { kind: 'malformed', error: new SipParseError(`unparseable message: ${(error as Error).message}`), bytes };
  }
}

/**
 * Encodes one SIP message as one WebSocket message. RFC 7118 §4.2: a message with any octet that
 * is not valid UTF-8 MUST go as a binary frame; otherwise text is used (what browsers expect).
 */
export function encodeMessage(message: SipMessage): W2Frame {
  const bytes = serializeMessage(message);
  return isUtf8(bytes) ? bytes.toString('utf8') : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isOnlyCrlf(bytes: Buffer): boolean {
  if (bytes.length % 2 !== 0) return false;
  for (let i = 0; i < bytes.length; i += 2) {
    if (bytes[i] !== 13 || bytes[i + 1] !== 10) return false;
  }
  return true;
}
