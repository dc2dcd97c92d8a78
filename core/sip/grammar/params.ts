import { malformed } from '../codec/parse-error.js';
import type { SipParam } from '../model/uri.js';
import { GEN_VALUE, TOKEN, inClass, isToken, skipWs } from './chars.js';
import { quote, skipQuoted } from './quoted.js';
import { forbiddenHeaderChar } from './header-value.js';
import { SipBuildError } from '../model/build-error.js';

/**
 * Header parameters `*( SEMI generic-param )` from `s[i]` to the end of the element
 * (RFC 3261 §25.1, LWS allowed around `;` and `=`, RFC 4475 §3.1.1.1). Names must be tokens:
 * an empty name (`;;`) is a 400 (RFC 4475 §3.1.2.1). Values are kept as written, quoted
 * strings with their quotes (read them with `unquote`), so forwarding never alters them.
 */
export function parseHeaderParams(s: string, i: number, what: string): SipParam[] {
  const params: SipParam[] = [];
  i = skipWs(s, i);
  while (i < s.length) {
    if (s.charCodeAt(i) !== 59 /* ; */) throw malformed(`unexpected ${JSON.stringify(s[i])} in ${what}`);
    i = skipWs(s, i + 1);
    const nameStart = i;
    while (i < s.length && inClass(TOKEN, s.charCodeAt(i))) i++;
    if (i === nameStart) throw malformed(`empty parameter in ${what}`);
    const name = s.slice(nameStart, i);
    i = skipWs(s, i);
    let value: string | null = null;
    if (s.charCodeAt(i) === 61 /* = */) {
      i = skipWs(s, i + 1);
      const valueStart = i;
      if (s.charCodeAt(i) === 34) i = skipQuoted(s, i);
      else while (i < s.length && inClass(GEN_VALUE, s.charCodeAt(i))) i++;
      if (i === valueStart) throw malformed(`empty value for parameter ${name} in ${what}`);
      value = s.slice(valueStart, i);
      i = skipWs(s, i);
    }
    params.push({ name, value });
  }
  return params;
}

/**
 * Serializes header parameters; a value that is neither a token nor one whole quoted-string is
 * quoted (so `"a", evil="b"` cannot add a parameter); a name that is not a token is refused
 * (RFC 3261 §25.1 generic-param).
 */
export function formatHeaderParams(params: readonly SipParam[]): string {
  let out = '';
  for (const p of params) {
    if (!isToken(p.name)) throw new SipBuildError('header parameter name', `${JSON.stringify(String(p.name).slice(0, 20))} is not a token (RFC 3261 §25.1)`);
    out += ';' + p.name;
    if (p.value !== null) out += '=' + formatParamValue(p.name, p.value);
  }
  return out;
}

function formatParamValue(name: string, value: string): string {
  if (value.length >= 2 && value.charCodeAt(0) === 34 && isOneQuotedString(value)) return value;
  for (let i = 0; i < value.length; i++) if (!inClass(GEN_VALUE, value.charCodeAt(i))) return quote(value, `header parameter ${name}`);
  return value.length === 0 ? '""' : value;
}

/** Is `value` exactly one quoted-string (kept as written, RFC 3261 §25.1)? */
function isOneQuotedString(value: string): boolean {
  try {
    return skipQuoted(value, 0) === value.length && forbiddenHeaderChar(value) < 0;
  } catch {
    return false;
  }
}

export { isToken };
