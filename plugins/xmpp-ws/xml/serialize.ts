/**
 * XmlElement -> text of one WebSocket message. Every message is a standalone document
 * (RFC 7395 §3.3.3), so the top-level element always declares its namespace; children declare
 * theirs only when it differs from the parent's. No XML declaration (RFC 7395 §3.3.3: not
 * recommended), no whitespace between elements.
 */
import type { XmlElement } from './element.js';

// Characters XML 1.0 §2.2 does not allow at all (C0 controls but TAB/LF/CR, U+FFFE/U+FFFF, lone
// surrogates). Text we serialize can come from SIP (display names, MESSAGE bodies): such a
// character would make the whole message not-well-formed, so it becomes U+FFFD.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
// CR in text is written as a reference too: XML 1.0 §2.11 end-of-line handling would turn a raw
// CR into LF on the receiving side.
const TEXT_SPECIAL = /[&<>\r]/g;
// In attribute values TAB/LF/CR are written as character references so that attribute-value
// normalization (XML 1.0 §3.3.3) gives the receiver the same value back.
const ATTR_SPECIAL = /[&<>"\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;',
};
const escapeOne = (char: string): string => ESCAPES[char] ?? char;

function xmlChars(value: string): string {
  NOT_XML_CHAR.lastIndex = 0;
  return NOT_XML_CHAR.test(value) ? value.replace(NOT_XML_CHAR, '\uFFFD') : value;
}

export function escapeText(value: string): string {
  return xmlChars(value).replace(TEXT_SPECIAL, escapeOne);
}

export function escapeAttribute(value: string): string {
  return xmlChars(value).replace(ATTR_SPECIAL, escapeOne);
}

function write(element: XmlElement, parentNs: string | undefined, out: string[]): void {
  out.push('<', element.name);
  if (element.ns !== parentNs && !(parentNs === undefined && element.ns === '')) {
    out.push(' xmlns="', escapeAttribute(element.ns), '"');
  }
  let prefixes = 0;
  for (const key of Object.keys(element.attrs)) {
    const value = escapeAttribute(element.attrs[key] ?? '');
    if (key.startsWith('{')) {
      // Clark notation {uri}local: declare a prefix for it right here.
      const close = key.indexOf('}');
      const prefix = `a${prefixes++}`;
      out.push(' xmlns:', prefix, '="', escapeAttribute(key.slice(1, close)), '" ', prefix, ':', key.slice(close + 1), '="', value, '"');
    } else {
      out.push(' ', key, '="', value, '"');
    }
  }
  if (element.children.length === 0 && element.text === '') {
    out.push('/>');
    return;
  }
  out.push('>');
  if (element.text !== '') out.push(escapeText(element.text));
  for (const child of element.children) write(child, element.ns, out);
  out.push('</', element.name, '>');
}

export function serializeElement(element: XmlElement): string {
  const out: string[] = [];
  write(element, undefined, out);
  return out.join('');
}
