/**
 * Character classes of RFC 3261 §25.1 as lookup tables: no regular expressions on untrusted
 * input, so no backtracking (docs/style.md, hot paths).
 */
function table(extra: string, alnum = true): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (const ch of extra) t[ch.charCodeAt(0)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~");
/** unreserved = alphanum / mark */
const MARK = "-_.!~*'()";
/** user = 1*( unreserved / escaped / user-unreserved ) */
export const USER = table(MARK + '&=+$,;?/');
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table(MARK + '&=+$,');
/** paramchar = param-unreserved / unreserved / escaped */
export const PARAM = table(MARK + '[]/:&+$');
/** hname / hvalue characters (hnv-unreserved / unreserved / escaped) */
export const URI_HEADER = table(MARK + '[]/?:+$');
/** hostname characters (underscore tolerated: deployed DNS names use it). */
export const HOST = table('-._');
/** word (Call-ID) = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}") */
export const WORD = table("-.!%*_+`'~()<>:\\\"/[]?{}");
/** Header parameter values: token, plus what hosts and IPv6 references add (Via received=2001:db8::9). */
export const GEN_VALUE = table("-.!%*_+`'~:[]");
/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
export const SCHEME = table('+-.');
/** DIGIT */
export const DIGITS = table('0123456789', false);
/** Characters of a tel: number (RFC 3966 global/local number digits and visual separators). */
export const TEL = table('+-.()*#');

export function inClass(cls: Uint8Array, code: number): boolean {
  // Non-ASCII is never part of these classes (UTF-8 only appears inside quoted strings).
  return code < 128 && cls[code] === 1;
}

export function isAllClass(cls: Uint8Array, s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!inClass(cls, s.charCodeAt(i))) return false;
  return true;
}

export function isWs(code: number): boolean {
  return code === 32 || code === 9;
}

export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

export function isToken(s: string): boolean {
  return isAllClass(TOKEN, s);
}

export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}
