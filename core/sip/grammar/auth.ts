import { malformed } from '../codec/parse-error.js';
import { SipBuildError } from '../model/build-error.js';
import type { AuthValue } from '../model/views.js';
import { TOKEN, inClass, isToken, skipWs } from './chars.js';
import { quote, readQuoted } from './quoted.js';

/** token68 (RFC 7235 §2.1), the form of an RFC 6750 / RFC 8898 Bearer credential. */
function isToken68(s: string): boolean {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 126 || c === 43 || c === 47;
    if (!ok) break;
  }
  while (i < s.length && s.charCodeAt(i) === 61) i++;
  return i === s.length && s.length > 0;
}

/**
 * A challenge or credentials value: `scheme LWS auth-param *(COMMA auth-param)` (RFC 3261
 * §25.1, RFC 7616). Parameter names are lower-cased, values unquoted. Bearer accepts both
 * `Bearer <token68>` (RFC 6750/RFC 8898) and `Bearer access_token="..."` (TS 24.371 A.3.2,
 * R-REG-2); unknown schemes are parsed the same way and forwarded untouched (RFC 4475 §3.3.7).
 */
export function parseAuthValue(text: string): AuthValue {
  const s = text.trim();
  let i = 0;
  while (i < s.length && inClass(TOKEN, s.charCodeAt(i))) i++;
  if (i === 0) throw malformed('missing authentication scheme');
  const scheme = s.slice(0, i);
  const rest = s.slice(i).trim();
  const params: Record<string, string> = {};
  if (scheme.toLowerCase() === 'bearer' && isToken68(rest)) return { scheme, params, token: rest };
  let j = 0;
  while (j < rest.length) {
    j = skipWs(rest, j);
    const nameStart = j;
    while (j < rest.length && inClass(TOKEN, rest.charCodeAt(j))) j++;
    if (j === nameStart) throw malformed(`malformed ${scheme} parameters`);
    const name = rest.slice(nameStart, j).toLowerCase();
    j = skipWs(rest, j);
    if (rest.charCodeAt(j) !== 61 /* = */) throw malformed(`missing '=' after ${name} in ${scheme} parameters`);
    j = skipWs(rest, j + 1);
    let value: string;
    if (rest.charCodeAt(j) === 34) {
      const q = readQuoted(rest, j);
      value = q.text;
      j = q.end;
    } else {
      const start = j;
      while (j < rest.length && rest.charCodeAt(j) !== 44 && rest.charCodeAt(j) !== 32 && rest.charCodeAt(j) !== 9) j++;
      value = rest.slice(start, j);
    }
    params[name] = value;
    j = skipWs(rest, j);
    if (j < rest.length) {
      if (rest.charCodeAt(j) !== 44) throw malformed(`expected ',' in ${scheme} parameters`);
      j++;
    }
  }
  const token = scheme.toLowerCase() === 'bearer' ? params['access_token'] : undefined;
  return token !== undefined ? { scheme, params, token } : { scheme, params };
}

/** Parameters RFC 7616 §3.4 / RFC 3261 §25.1 send unquoted; everything else is quoted. */
const UNQUOTED = new Set(['algorithm', 'nc', 'qop', 'stale']);

/**
 * Serializes a challenge/credentials value. A Bearer with only a token uses the token68 form.
 * In a challenge `qop` is a quoted list (RFC 7616 §3.3); in credentials a bare token (§3.4).
 * The scheme and parameter names must be tokens and a token68 a token68; values go through
 * `quote`, which escapes `"` and `\` and refuses CR/LF: a username can never close its quotes
 * and add a parameter of its own, nor start a header line (RFC 3261 §25.1).
 */
export function formatAuth(value: AuthValue, { challenge = false }: { challenge?: boolean } = {}): string {
  if (!isToken(value.scheme)) throw new SipBuildError('authentication scheme', `${JSON.stringify(String(value.scheme).slice(0, 20))} is not a token (RFC 3261 §25.1)`);
  const entries = Object.entries(value.params);
  if (value.token !== undefined && entries.length === 0) {
    if (!isToken68(value.token)) throw new SipBuildError(`${value.scheme} credentials`, 'the token is not a token68 (RFC 7235 §2.1)');
    return `${value.scheme} ${value.token}`;
  }
  const parts = entries.map(([k, v]) => {
    if (!isToken(k)) throw new SipBuildError(`${value.scheme} parameter name`, `${JSON.stringify(k.slice(0, 20))} is not a token (RFC 3261 §25.1)`);
    const bare = UNQUOTED.has(k) && isToken(v) && !(challenge && k === 'qop');
    return `${k}=${bare ? v : quote(v, `${value.scheme} ${k}`)}`;
  });
  return `${value.scheme} ${parts.join(', ')}`;
}
