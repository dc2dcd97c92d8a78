/**
 * Grammar-aware mutations of SIP messages for the robustness fuzz (issue #11): a mutation is
 * plain data (`{ op: 'set-value', line: 3, value: '<' }`) applied to the message text, so a
 * failing case prints as something a person can read and replay, and fast-check shrinks it.
 * The text is handled as latin1 (one char = one octet), so any byte sequence survives.
 */
import fc from 'fast-check';

/** Header names worth breaking: the ones the P-CSCF reads, their compact forms, odd spellings. */
const HEADER_NAMES = [
  'Via', 'v', 'From', 'f', 'To', 't', 'Call-ID', 'i', 'CSeq', 'Contact', 'm', 'Max-Forwards', 'Content-Length', 'l',
  'Content-Type', 'c', 'Route', 'Record-Route', 'Expires', 'Authorization', 'Proxy-Authorization', 'WWW-Authenticate',
  'Proxy-Authenticate', 'P-Asserted-Identity', 'P-Preferred-Identity', 'Path', 'Service-Route', 'P-Associated-URI',
  'Security-Client', 'Security-Verify', 'Require', 'Proxy-Require', 'Supported', 'k', 'Privacy', 'P-Charging-Vector',
  'P-Access-Network-Info', 'P-Visited-Network-ID', 'Event', 'o', 'Refer-To', 'r', 'Replaces', 'Session-Expires', 'x',
  'RSeq', 'RAck', 'Accept-Contact', 'a', 'Reason', 'Subscription-State', 'Min-Expires', 'Unsupported', 'Warning',
  'P-Early-Media', 'Feature-Caps', 'Referred-By', 'b', 'Timestamp', 'cseq', 'VIA', 'X-Fuzz', 'Bad Name', 'Via ', '',
  '__proto__', 'constructor',
];

/** Values that sit on grammar edges: delimiters, escapes, control characters, huge numbers. */
const EDGE_VALUES = [
  '', ' ', '\t', '<', '>', '<>', '"', '"unterminated', '\\', '\\"', ';', ';;', ',', ',,', '=', '@', ':', '%', '%00', '%zz',
  '%ff', '\r', '\n', '\r\n', '\r\n\r\n', '\0', '\x7f', '\xff', '\xc3\x28', '*', '[', ']', '[::1]', '[::1', '0', '-1',
  '4294967295', '4294967296', '99999999999999999999', '1e3', '0x10', 'NaN', 'SIP/2.0', 'SIP/3.0', 'SIP/2.0/UDP',
  'SIP/2.0/WS', 'z9hG4bK', ';branch=', ';branch=z9hG4bK', ';tag=', ';tag=abc', ';lr', ';ob', ';rport', ';received=',
  ';transport=ws', ';maddr=192.0.2.1', ';expires=0', ';expires=-5', ';q=2.0', 'sip:', 'sips:', 'tel:', 'tel:+1',
  'urn:uuid:', 'sip:a@b', '<sip:a@b>', '<sip:a@b;lr>', '<sip:127.0.0.1:1;lr>', '"x" <sip:a@[::1]:5060>;tag=1',
  '<sip:alice@ims.test>;tag=z', 'sip:alice@ims.test', '<sip:+15550001@ims.test;user=phone>', 'tel:+15550001',
  'Digest realm="ims.test", nonce="x", uri="sip:ims.test", response="0"', 'Digest ', 'Digest ,,,', 'Basic x',
  '1 INVITE', '1 REGISTER', '0 ACK', '1', 'INVITE', '1 BOGUS', 'application/sdp', 'text/plain', 'multipart/mixed;boundary=',
  'a'.repeat(300), '<'.repeat(100), ';a'.repeat(200), '%41'.repeat(50), '__proto__', '{"__proto__":{}}', '\u2028',
];

/** A short run of hostile text: an edge value, random octets, or SIP-ish characters. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_VALUES) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...' \t<>";,=@:%[]\\/*?!~\'`+-._0123456789abcxyzSIP\r\n\0'.split('')), maxLength: 24 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes).toString('latin1')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => Buffer.from(s, 'utf8').toString('latin1')) },
);

export type SipMutation =
  | { readonly op: 'drop-line'; readonly line: number }
  | { readonly op: 'dup-line'; readonly line: number }
  | { readonly op: 'swap-lines'; readonly line: number; readonly other: number }
  | { readonly op: 'set-value'; readonly line: number; readonly value: string }
  | { readonly op: 'append-value'; readonly line: number; readonly value: string }
  | { readonly op: 'set-name'; readonly line: number; readonly name: string }
  | { readonly op: 'insert-header'; readonly line: number; readonly name: string; readonly value: string }
  | { readonly op: 'start-line'; readonly part: number; readonly value: string }
  | { readonly op: 'content-length'; readonly value: string }
  | { readonly op: 'fold'; readonly line: number; readonly at: number }
  | { readonly op: 'splice'; readonly at: number; readonly text: string }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'set-byte'; readonly at: number; readonly byte: number }
  | { readonly op: 'body'; readonly value: string };

const index = fc.nat({ max: 10_000 });
const headerName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...HEADER_NAMES) }, { weight: 1, arbitrary: hostileText });

export const sipMutation: fc.Arbitrary<SipMutation> = fc.oneof(
  fc.record({ op: fc.constant('drop-line' as const), line: index }),
  fc.record({ op: fc.constant('dup-line' as const), line: index }),
  fc.record({ op: fc.constant('swap-lines' as const), line: index, other: index }),
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set-value' as const), line: index, value: hostileText }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('append-value' as const), line: index, value: hostileText }) },
  fc.record({ op: fc.constant('set-name' as const), line: index, name: headerName }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant('insert-header' as const), line: index, name: headerName, value: hostileText }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('start-line' as const), part: fc.nat({ max: 3 }), value: hostileText }) },
  fc.record({ op: fc.constant('content-length' as const), value: hostileText }),
  fc.record({ op: fc.constant('fold' as const), line: index, at: index }),
  fc.record({ op: fc.constant('splice' as const), at: index, text: hostileText }),
  fc.record({ op: fc.constant('truncate' as const), at: index }),
  fc.record({ op: fc.constant('set-byte' as const), at: index, byte: fc.nat({ max: 255 }) }),
  fc.record({ op: fc.constant('body' as const), value: hostileText }),
);

/** One to four mutations, applied in order. */
export const sipMutations: fc.Arbitrary<readonly SipMutation[]> = fc.array(sipMutation, { minLength: 1, maxLength: 4 });

/** Applies the mutations to a message (latin1 text in, octets out). */
export function mutate(message: string | Buffer, mutations: readonly SipMutation[]): Buffer {
  let text = typeof message === 'string' ? message : message.toString('latin1');
  for (const m of mutations) text = applyOne(text, m);
  return Buffer.from(text, 'latin1');
}

function applyOne(text: string, m: SipMutation): string {
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const rest = headEnd < 0 ? '' : text.slice(headEnd);
  const lines = head.split('\r\n');
  const headerLine = (n: number): number => (lines.length <= 1 ? 0 : 1 + (n % (lines.length - 1)));
  const join = (): string => lines.join('\r\n') + rest;
  switch (m.op) {
    case 'drop-line': lines.splice(headerLine(m.line), 1); return join();
    case 'dup-line': { const at = headerLine(m.line); lines.splice(at, 0, lines[at] ?? ''); return join(); }
    case 'swap-lines': {
      const a = m.line % lines.length;
      const b = m.other % lines.length;
      [lines[a], lines[b]] = [lines[b] ?? '', lines[a] ?? ''];
      return join();
    }
    case 'set-value':
    case 'append-value': {
      const at = headerLine(m.line);
      const line = lines[at] ?? '';
      const colon = line.indexOf(':');
      if (colon < 0) lines[at] = m.op === 'set-value' ? m.value : line + m.value;
      else lines[at] = m.op === 'set-value' ? `${line.slice(0, colon + 1)} ${m.value}` : line + m.value;
      return join();
    }
    case 'set-name': {
      const at = headerLine(m.line);
      const line = lines[at] ?? '';
      const colon = line.indexOf(':');
      lines[at] = `${m.name}${colon < 0 ? ': ' + line : line.slice(colon)}`;
      return join();
    }
    case 'insert-header': lines.splice(headerLine(m.line), 0, `${m.name}: ${m.value}`); return join();
    case 'start-line': {
      const parts = (lines[0] ?? '').split(' ');
      parts[m.part % Math.max(1, parts.length)] = m.value;
      if (m.part === 3) parts.push(m.value);
      lines[0] = parts.join(' ');
      return join();
    }
    case 'content-length': {
      const at = lines.findIndex((l) => /^(content-length|l)\s*:/i.test(l));
      if (at < 0) lines.push(`Content-Length: ${m.value}`);
      else lines[at] = `Content-Length: ${m.value}`;
      return join();
    }
    case 'fold': {
      const at = headerLine(m.line);
      const line = lines[at] ?? '';
      const spaces = [...line.matchAll(/ /g)].map((s) => s.index);
      if (spaces.length === 0) return text;
      const sp = spaces[m.at % spaces.length] as number;
      lines[at] = `${line.slice(0, sp)}\r\n ${line.slice(sp + 1)}`;
      return join();
    }
    case 'splice': { const at = m.at % (text.length + 1); return text.slice(0, at) + m.text + text.slice(at); }
    case 'truncate': return text.slice(0, m.at % (text.length + 1));
    case 'set-byte': {
      if (text.length === 0) return text;
      const at = m.at % text.length;
      return text.slice(0, at) + String.fromCharCode(m.byte) + text.slice(at + 1);
    }
    case 'body': return headEnd < 0 ? `${text}\r\n\r\n${m.value}` : text.slice(0, headEnd + 4) + m.value;
  }
}

/** RFC 7118 §4.2: UTF-8 text goes in a text frame, anything else in a binary frame. */
export function asWebSocketFrame(bytes: Buffer): string | Buffer {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return bytes;
  }
}
