/**
 * media-type = m-type SLASH m-subtype *(SEMI m-parameter) (RFC 3261 §20.15, §25.1; RFC 2045 §5.1):
 * types, subtypes and parameter names are tokens, parameter values tokens or quoted-strings,
 * LWS allowed around `/`, `;` and `=`. Checked by index, without regular expressions.
 */
import { SipBuildError } from '../model/build-error.js';
import { TOKEN, inClass, skipWs } from './chars.js';
import { forbiddenHeaderChar } from './header-value.js';

function tokenEnd(s: string, i: number): number {
  while (i < s.length && inClass(TOKEN, s.charCodeAt(i))) i++;
  return i;
}

/** End of the quoted-string at `s[i] === '"'`, or -1 when it is not terminated. */
function quotedEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 92 /* \ */) j++;
    else if (c === 34 /* " */) return j + 1;
  }
  return -1;
}

/** Why `value` is not a media-type, or undefined when it is one. */
export function mediaTypeProblem(value: string): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  if (forbiddenHeaderChar(value) >= 0) return 'CR, LF and NUL are not allowed in a SIP header value (RFC 3261 §25.1)';
  let i = skipWs(value, 0);
  let end = tokenEnd(value, i);
  if (end === i) return 'must start with a type token (type/subtype, RFC 3261 §20.15)';
  i = skipWs(value, end);
  if (value.charCodeAt(i) !== 47 /* / */) return "needs '/' and a subtype (type/subtype, RFC 3261 §20.15)";
  i = skipWs(value, i + 1);
  end = tokenEnd(value, i);
  if (end === i) return 'needs a subtype token after \'/\' (RFC 3261 §20.15)';
  i = skipWs(value, end);
  while (i < value.length) {
    if (value.charCodeAt(i) !== 59 /* ; */) return `unexpected ${JSON.stringify(value[i])}: parameters follow ';' (RFC 3261 §20.15)`;
    i = skipWs(value, i + 1);
    end = tokenEnd(value, i);
    if (end === i) return 'a parameter name must be a token (RFC 3261 §25.1 m-attribute)';
    i = skipWs(value, end);
    if (value.charCodeAt(i) !== 61 /* = */) return "a parameter needs '=' and a value (RFC 3261 §25.1 m-parameter)";
    i = skipWs(value, i + 1);
    end = value.charCodeAt(i) === 34 ? quotedEnd(value, i) : tokenEnd(value, i);
    if (end <= i) return 'a parameter value must be a token or a quoted-string (RFC 3261 §25.1 m-value)';
    i = skipWs(value, end);
  }
  return undefined;
}

export function isMediaType(value: string): boolean {
  return mediaTypeProblem(value) === undefined;
}

/** `value` when it is a media-type, else SipBuildError naming `what`. */
export function checkMediaType(value: string, what = 'Content-Type'): string {
  const problem = mediaTypeProblem(value);
  if (problem !== undefined) throw new SipBuildError(what, `${JSON.stringify(String(value).slice(0, 60))} ${problem}`);
  return value;
}
