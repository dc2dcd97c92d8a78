/**
 * What a plugin's client gives the virtual UE (identities, targets, media types) checked once,
 * where it enters core/ua, against the SIP grammar it will be written in (issue #11): a refusal
 * is EPC_ERR_UA_INVALID_ARGUMENT naming the argument, before anything is sent. The SIP builders
 * refuse the same values again (SipBuildError), so this is the clear message, not the only guard.
 */
import { formatUri, mediaTypeProblem, parseUri, quote, SipBuildError, type SipUri, type TelUri } from '../sip/index.js';
import { invalidArgument } from './ua-errors.js';

/**
 * A target (Request-URI, To, Refer-To, subscription resource): a SIP, SIPS or tel URI without
 * URI headers. RFC 3261 §19.1.1: headers are not allowed in a Request-URI or a To; a `?X=y` from
 * a client must never become a header or reach the Request-URI.
 */
export function parseTarget(value: unknown, argument = 'target'): SipUri | TelUri {
  if (typeof value !== 'string' || !/^(sips?|tel):/i.test(value)) {
    throw invalidArgument(`${argument} must be a SIP, SIPS or tel URI (got ${JSON.stringify(String(value).slice(0, 80))})`);
  }
  let uri;
  try {
    uri = parseUri(value);
  } catch {
    throw invalidArgument(`${argument} is not a valid SIP or tel URI: ${JSON.stringify(value.slice(0, 80))}`);
  }
  if (uri.kind === 'absolute') throw invalidArgument(`${argument} must be a SIP, SIPS or tel URI`);
  if (uri.kind === 'sip' && uri.headers.length > 0) {
    throw invalidArgument(`${argument} must not carry URI headers (?name=value): RFC 3261 §19.1.1 allows none in a Request-URI or To`);
  }
  return uri;
}

/** The canonical text of a target (what the UE writes in the Request-URI and To). */
export function targetText(value: unknown, argument = 'target'): string {
  return formatUri(parseTarget(value, argument));
}

/** A display name: any text a quoted-string can carry (RFC 3261 §25.1): no CR or LF. */
export function checkDisplayName(value: unknown, argument = 'displayName'): string {
  if (typeof value !== 'string') throw invalidArgument(`${argument} must be a string`);
  try {
    quote(value, argument);
  } catch (error) {
    if (error instanceof SipBuildError) throw invalidArgument(`${argument}: CR and LF cannot appear in a SIP display name (RFC 3261 §25.1)`);
    throw error;
  }
  return value;
}

/**
 * A private user identity (digest username): TS 23.003 §13.3 gives it the NAI form (RFC 7542
 * §2.2), whose characters are printable, without space, `"` or `\`: so it is never written
 * with quoted-pairs, which some digest servers mishandle.
 */
export function checkPrivateIdentity(value: unknown, argument = 'impi'): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(`${argument} must be a non-empty string`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 32 || c === 34 || c === 92 || c === 127) {
      throw invalidArgument(`${argument}: a private identity is an NAI (TS 23.003 §13.3, RFC 7542): no control characters, space, '"' or '\\'`);
    }
  }
  return value;
}

/** A body's media type, type/subtype with parameters (RFC 3261 §20.15). */
export function checkBodyType(value: unknown, argument = 'contentType'): string {
  const problem = typeof value === 'string' ? mediaTypeProblem(value) : 'is not a string';
  if (problem !== undefined) throw invalidArgument(`${argument} ${problem}`);
  return value as string;
}

/** RFC 6750 §2.1 b64token: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (a JWT is one). */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Longest web token taken: an RS4096-signed JWT with a few claims stays far below it. */
export const MAX_BEARER_TOKEN_LENGTH = 8192;

/**
 * A web token (scenario 2/3, TS 24.371 §6) the UE will write as `Authorization: Bearer <token>`
 * (RFC 6750 §2.1, RFC 8898): only b64token characters, so it cannot break the header. Whether it
 * is a valid JWT is the P-CSCF's call (R-REG-4), not this check's.
 */
export function checkBearerToken(value: unknown, argument = 'token'): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(`${argument} must be a non-empty string`);
  if (value.length > MAX_BEARER_TOKEN_LENGTH) throw invalidArgument(`${argument} is longer than ${MAX_BEARER_TOKEN_LENGTH} characters`);
  if (!B64TOKEN.test(value)) throw invalidArgument(`${argument} is not an RFC 6750 b64token (letters, digits, - . _ ~ + / and trailing =): a JWT is three base64url parts joined by dots`);
  return value;
}
