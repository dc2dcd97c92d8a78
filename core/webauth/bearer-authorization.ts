/**
 * The two forms of a bearer token in `Authorization` (R-REG-2): RFC 6750 §2.1 / RFC 8898
 * `Bearer <b64token>`, and TS 24.371 annex A.3.2 `Bearer access_token="<token>"`.
 * Only the scheme test runs for every request; the parse runs on Bearer lines alone.
 */
import type { SipHeader, SipRequest } from '../sip/index.js';

/** RFC 6750 §2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** The A.3.2 form; the value is a quoted-string without escapes (a JWT never needs one). */
const ACCESS_TOKEN_PARAM = /^access_token\s*=\s*"([^"\\]*)"\s*$/i;

/** Is this an `Authorization: Bearer ...` line? Cheap: no allocation for other headers. */
export function isBearerAuthorization(header: SipHeader): boolean {
  if (header.name.length !== 13 || header.name.toLowerCase() !== 'authorization') return false;
  const value = header.value;
  let i = 0;
  while (value.charCodeAt(i) === 0x20 || value.charCodeAt(i) === 0x09) i++;
  return value.length >= i + 6 && value.slice(i, i + 6).toLowerCase() === 'bearer'
    && (value.length === i + 6 || value.charCodeAt(i + 6) === 0x20 || value.charCodeAt(i + 6) === 0x09);
}

/**
 * The token of a `Bearer` credentials value, either form, or undefined when the value is a
 * Bearer line whose token cannot be read (the caller answers `403 Token malformed`).
 */
export function parseBearerCredentials(value: string): string | undefined {
  const rest = value.trim().slice(6).trim();
  if (rest === '') return undefined;
  const quoted = ACCESS_TOKEN_PARAM.exec(rest);
  // `access_token=` not followed by a quoted value is a broken A.3.2 form, not a b64token.
  if (quoted === null && /^access_token\s*=/i.test(rest)) return undefined;
  const token = quoted ? quoted[1] ?? '' : rest;
  return B64TOKEN.test(token) ? token : undefined;
}

export type BearerInRequest =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'malformed' };

const NONE: BearerInRequest = { kind: 'none' };

/** The bearer token a request carries (the first Bearer Authorization line). */
export function bearerTokenOf(request: SipRequest): BearerInRequest {
  const header = request.headers.find(isBearerAuthorization);
  if (header === undefined) return NONE;
  const token = parseBearerCredentials(header.value);
  return token === undefined ? { kind: 'malformed' } : { kind: 'token', token };
}

/** R-REG-5: the request without any Bearer Authorization line (itself when it has none). */
export function withoutBearer<M extends SipRequest>(request: M): M {
  if (!request.headers.some(isBearerAuthorization)) return request;
  return { ...request, headers: request.headers.filter((h) => !isBearerAuthorization(h)) };
}
