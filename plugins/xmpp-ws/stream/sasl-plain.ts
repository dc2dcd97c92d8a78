/**
 * RFC 4616 PLAIN: message = [authzid] NUL authcid NUL passwd, base64 in <auth/> (RFC 6120 §6.4.2).
 * A decoding problem is a SASL failure condition (RFC 6120 §6.5), never an exception.
 */
export interface PlainCredentials {
  readonly authzid: string;
  readonly authcid: string;
  readonly password: string;
}

export type PlainDecodeResult =
  | { readonly ok: true; readonly credentials: PlainCredentials }
  | { readonly ok: false; readonly condition: 'incorrect-encoding' | 'malformed-request' };

// RFC 4648 §4: the base64 alphabet with padding; RFC 6120 §6.4.2 "=" for an empty response.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 4616 §2: each field is at most 255 octets. */
const MAX_FIELD_OCTETS = 255;

/**
 * The initial response of an <auth/> (RFC 6120 §6.4.2): base64 of UTF-8 text, whitespace
 * ignored; undefined when it is empty, not base64 or not UTF-8 (the incorrect-encoding failure).
 */
export function decodeSaslText(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || compact === '=' || !BASE64.test(compact)) return undefined;
  const decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return decoded.decode(Buffer.from(compact, 'base64'));
  } catch {
    return undefined;
  }
}

export function decodePlain(text: string): PlainDecodeResult {
  const message = decodeSaslText(text);
  if (message === undefined) return { ok: false, condition: 'incorrect-encoding' };
  const parts = message.split('\u0000');
  if (parts.length !== 3) return { ok: false, condition: 'malformed-request' };
  const [authzid = '', authcid = '', password = ''] = parts;
  if (authcid === '' || password === '') return { ok: false, condition: 'malformed-request' };
  if ([authzid, authcid, password].some((field) => Buffer.byteLength(field, 'utf8') > MAX_FIELD_OCTETS)) return { ok: false, condition: 'malformed-request' };
  return { ok: true, credentials: { authzid, authcid, password } };
}
