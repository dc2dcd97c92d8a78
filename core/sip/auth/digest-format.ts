/**
 * Header values for digest challenges and credentials, on top of core/sip's `formatAuth`
 * (which applies RFC 7616 §3.3/§3.4 quoting: algorithm, nc, qop and stale bare, qop quoted as a
 * list in a challenge). This adds the conventional parameter order, so that what we send
 * reads like the RFC examples whatever order the params object was built in.
 */
import { formatAuth } from '../grammar/auth.js';
import type { AuthValue } from '../model/views.js';

const CHALLENGE_ORDER = ['realm', 'domain', 'nonce', 'opaque', 'stale', 'algorithm', 'qop', 'userhash', 'charset'];
const CREDENTIAL_ORDER = ['username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'cnonce', 'opaque', 'qop', 'nc', 'userhash'];

/** `Digest realm="...", nonce="...", ...` for WWW-Authenticate / Proxy-Authenticate. */
export function formatDigestChallenge(value: AuthValue): string {
  return formatAuth(ordered(value, CHALLENGE_ORDER), { challenge: true });
}

/** `Digest username="...", ..., response="..."` for Authorization / Proxy-Authorization. */
export function formatDigestCredentials(value: AuthValue): string {
  return formatAuth(ordered(value, CREDENTIAL_ORDER));
}

function ordered(value: AuthValue, order: readonly string[]): AuthValue {
  const params: Record<string, string> = {};
  for (const name of order) {
    const v = value.params[name];
    if (v !== undefined) params[name] = v;
  }
  for (const [name, v] of Object.entries(value.params)) if (!(name in params)) params[name] = v;
  return value.token !== undefined ? { scheme: value.scheme, params, token: value.token } : { scheme: value.scheme, params };
}
