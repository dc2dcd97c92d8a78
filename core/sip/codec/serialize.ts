import type { SipMessage } from '../model/message.js';
import { formatUri } from '../grammar/uri.js';

/**
 * Canonical wire form (RFC 3261 §7): single-space start line, one `Name: value` line per header
 * in model order (long names, no folding), `Content-Length` last and always equal to the body
 * length (the body is the source of truth; the parser drops the received Content-Length).
 */
export function serializeMessage(msg: SipMessage): Buffer {
  let head = msg.kind === 'request'
    ? `${msg.method} ${formatUri(msg.uri)} SIP/2.0\r\n`
    : `SIP/2.0 ${msg.status} ${msg.reason}\r\n`;
  for (const h of msg.headers) head += `${h.name}: ${h.value}\r\n`;
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + msg.body.length);
  out.write(head, 0, 'utf8');
  out.set(msg.body, headLength);
  return out;
}
