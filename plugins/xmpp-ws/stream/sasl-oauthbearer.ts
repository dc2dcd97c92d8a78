/**
 * RFC 7628 §3.1 OAUTHBEARER initial client response, base64 in <auth/> (RFC 6120 §6.4.2):
 *
 *   client-resp = (gs2-header kvsep *kvpair kvsep) / kvsep      kvsep = %x01
 *   gs2-header  = gs2-cbind-flag "," [ "a=" saslname ] ","       (RFC 5801 §4)
 *   kvpair      = key "=" value kvsep                            auth = "Bearer" 1*SP b64token
 *
 * e.g. `n,a=alice@ims.test,\x01auth=Bearer eyJ…\x01\x01`. A decoding problem is a SASL failure
 * condition (RFC 6120 §6.5), never an exception. Whether the token is any good is the P-CSCF's
 * call when the UE registers with it (R-REG-4); this only reads the message.
 */
import { decodeSaslText } from './sasl-plain.js';

export interface OauthBearerResponse {
  /** The gs2 authzid ('' when absent): a JID the client asks to act as. */
  readonly authzid: string;
  /** The bearer token (a JWT). */
  readonly token: string;
}

export type OauthBearerDecodeResult =
  | { readonly ok: true; readonly response: OauthBearerResponse }
  | { readonly ok: false; readonly condition: 'incorrect-encoding' | 'malformed-request' };

const KVSEP = '\u0001';
/** RFC 7628 §3.1: key = 1*(ALPHA); value = *(VCHAR / SP / HTAB / CR / LF). */
const KVPAIR = /^[A-Za-z]+=[\u0020-\u007e\t\r\n]*$/;
/** RFC 6750 §2.1 scheme (case-insensitive, RFC 7235 §2.1) then b64token. */
const AUTH_VALUE = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
/** RFC 5801 §4 saslname: "," and "=" only as =2C and =3D. */
const SASLNAME_ESCAPE = /=(2C|3D)/g;
const BARE_EQUALS = /=(?!2C|3D)/;
const MAX_TOKEN_LENGTH = 8192;

const malformed = { ok: false, condition: 'malformed-request' } as const;

export function decodeOauthBearer(text: string): OauthBearerDecodeResult {
  const message = decodeSaslText(text);
  if (message === undefined) return { ok: false, condition: 'incorrect-encoding' };
  // A lone kvsep is the answer to an error challenge (RFC 7628 §3.2.3); this server sends none.
  const headerEnd = message.indexOf(KVSEP);
  if (headerEnd < 0 || message === KVSEP) return malformed;
  const authzid = gs2Authzid(message.slice(0, headerEnd));
  if (authzid === undefined) return malformed;
  const rest = message.slice(headerEnd + 1);
  if (!rest.endsWith(KVSEP + KVSEP)) return malformed;
  let token: string | undefined;
  for (const pair of rest.slice(0, -2).split(KVSEP)) {
    if (!KVPAIR.test(pair)) return malformed;
    if (!pair.startsWith('auth=')) continue; // host=, port= and extensions are not used here
    if (token !== undefined) return malformed;
    token = AUTH_VALUE.exec(pair.slice(5))?.[1];
    if (token === undefined) return malformed;
  }
  if (token === undefined || token.length > MAX_TOKEN_LENGTH) return malformed;
  return { ok: true, response: { authzid, token } };
}

/**
 * The authzid of a gs2 header without channel binding (`n` or `y`; `p=` asks for one, which a
 * bearer token over TLS does not have, RFC 7628 §3.1). stanza 12 writes the authzid without its
 * `a=` prefix (`n,alice@ims.test,`): read that too, it names the same thing.
 */
function gs2Authzid(header: string): string | undefined {
  const parts = header.split(',');
  if (parts.length !== 3 || parts[2] !== '' || (parts[0] !== 'n' && parts[0] !== 'y')) return undefined;
  const field = parts[1] ?? '';
  const name = field.startsWith('a=') ? field.slice(2) : field;
  if (field.startsWith('a=') && name === '') return undefined;
  if (BARE_EQUALS.test(name)) return undefined;
  return name.replace(SASLNAME_ESCAPE, (_, code: string) => (code === '2C' ? ',' : '='));
}
