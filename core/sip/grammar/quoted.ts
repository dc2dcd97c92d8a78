import { malformed } from '../codec/parse-error.js';
import { SipBuildError } from '../model/build-error.js';

/**
 * Reads a quoted-string starting at `s[start] === '"'` (RFC 3261 §25.1): quoted-pairs resolve
 * to the escaped character (`\"` → `"`, `\\` → `\`, even NUL/BEL/DEL, RFC 4475 §3.1.1.2).
 * Returns the unquoted text and the index after the closing quote. An unterminated quote is a
 * 400 (RFC 4475 §3.1.2.6).
 */
export function readQuoted(s: string, start: number): { text: string; end: number } {
  let text = '';
  let runStart = start + 1;
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      if (i + 1 >= s.length) break;
      text += s.slice(runStart, i) + s[i + 1];
      i++;
      runStart = i + 1;
    } else if (c === 34 /* " */) {
      return { text: text + s.slice(runStart, i), end: i + 1 };
    }
  }
  throw malformed('unterminated quoted string');
}

/** The index after the quoted-string starting at `start`, without building its text. */
export function skipQuoted(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i + 1;
  }
  throw malformed('unterminated quoted string');
}

/**
 * Quotes `text` as a quoted-string (RFC 3261 §25.1). `"` and `\` become quoted-pairs, and so do
 * the control characters qdtext does not admit (NUL..US but HTAB, and DEL): a quoted-pair may
 * carry them. CR and LF cannot be carried at all (quoted-pair excludes them, and on the wire
 * they would end the header line): they are refused with SipBuildError.
 */
export function quote(text: string, what = 'quoted-string'): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || c === 127) { plain = false; break; }
  }
  if (plain) return '"' + text + '"';
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 || c === 10) throw new SipBuildError(what, 'CR and LF cannot appear in a quoted-string (RFC 3261 §25.1)');
    out += (c < 32 && c !== 9) || c === 34 || c === 92 || c === 127 ? '\\' + text[i] : text[i];
  }
  return out + '"';
}

/** A header parameter value without its quotes (values are kept as written, quotes included). */
export function unquote(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.length >= 2 && value.charCodeAt(0) === 34) {
    try {
      return readQuoted(value, 0).text;
    } catch {
      return value;
    }
  }
  return value;
}
