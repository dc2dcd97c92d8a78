/**
 * Header values for digest challenges and credentials. The generic `formatAuth` cannot know
 * which digest parameters must stay unquoted, so digest has its own writer:
 * RFC 7616 §3.4 "For historical reasons, a sender MUST only generate the quoted string syntax
 * for ... username, realm, nonce, uri, response, cnonce, and opaque" and MUST NOT quote
 * algorithm, qop and nc in credentials; in a challenge qop-options is a quoted list
 * (RFC 7616 §3.3, RFC 3261 §25.1) and stale/algorithm are tokens.
 */
import type { AuthValue } from '../model/views.js';

/** Parameters written first, in this order; anything else follows in insertion order. */
const CHALLENGE_ORDER = ['realm', 'domain', 'nonce', 'opaque', 'stale', 'algorithm', 'qop', 'userhash', 'charset'];
const CREDENTIAL_ORDER = ['username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'cnonce', 'opaque', 'qop', 'nc', 'userhash'];

const CHALLENGE_TOKENS = new Set(['stale', 'algorithm', 'userhash', 'charset']);
const CREDENTIAL_TOKENS = new Set(['algorithm', 'qop', 'nc', 'userhash']);

/** `Digest realm="...", nonce="...", ...` for WWW-Authenticate / Proxy-Authenticate. */
export function formatDigestChallenge(value: AuthValue): string {
  return formatDigest(value, CHALLENGE_ORDER, CHALLENGE_TOKENS);
}

/** `Digest username="...", ..., response="..."` for Authorization / Proxy-Authorization. */
export function formatDigestCredentials(value: AuthValue): string {
  return formatDigest(value, CREDENTIAL_ORDER, CREDENTIAL_TOKENS);
}

function formatDigest(value: AuthValue, order: readonly string[], tokens: ReadonlySet<string>): string {
  const names = [...order.filter((n) => value.params[n] !== undefined),
    ...Object.keys(value.params).filter((n) => !order.includes(n))];
  const parts = names.map((name) => {
    const v = value.params[name] ?? '';
    // An unknown extension parameter is written as a token when it is one, else quoted.
    const asToken = tokens.has(name) || (!order.includes(name) && isToken(v));
    return `${name}=${asToken && isToken(v) ? v : quoteString(v)}`;
  });
  return `${value.scheme} ${parts.join(', ')}`;
}

/** RFC 3261 §25.1 quoted-string: escape `"` and `\` as quoted-pairs. */
export function quoteString(text: string): string {
  let out = '"';
  for (const ch of text) out += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
  return out + '"';
}

// RFC 3261 §25.1 token characters.
const TOKEN_PUNCT = new Set(['-', '.', '!', '%', '*', '_', '+', '`', "'", '~']);

function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && !TOKEN_PUNCT.has(ch)) return false;
  }
  return true;
}
