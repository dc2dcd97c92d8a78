import { malformed } from '../codec/parse-error.js';
import { inClass } from './chars.js';

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * Checks `s` against a URI character class (escapes allowed) and unescapes it exactly once
 * (RFC 4475 §3.1.1.3: `v%61lue%25%34%31` becomes `value%41`). Escaped octets are UTF-8;
 * escaped NULs are kept (RFC 4475 §3.1.1.4: never truncate at %00).
 */
export function unescapeComponent(s: string, cls: Uint8Array, what: string): string {
  let hasEscape = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      if (hexValue(s.charCodeAt(i + 1)) < 0 || hexValue(s.charCodeAt(i + 2)) < 0) {
        throw malformed(`bad %-escape in ${what}`);
      }
      hasEscape = true;
      i += 2;
    } else if (!inClass(cls, c)) {
      throw malformed(`invalid character ${JSON.stringify(s[i])} in ${what}`);
    }
  }
  if (!hasEscape) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      bytes.push(hexValue(s.charCodeAt(i + 1)) * 16 + hexValue(s.charCodeAt(i + 2)));
      i += 2;
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString('utf8');
}

const HEX = '0123456789ABCDEF';

/** Escapes every octet of `s` outside `cls` (and `%` itself), the inverse of unescapeComponent. */
export function escapeComponent(s: string, cls: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || !inClass(cls, c)) { plain = false; break; }
  }
  if (plain) return s;
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte !== 37 && inClass(cls, byte)) out += String.fromCharCode(byte);
    else out += '%' + HEX[byte >> 4] + HEX[byte & 15];
  }
  return out;
}
