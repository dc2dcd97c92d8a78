/**
 * Jingle comes from the client; whatever of it lands in an SDP line must not be able to end that
 * line or shift its fields. XML lets an attribute carry CR/LF as `&#13;&#10;` and spaces freely,
 * and sdp-transform writes values as given, so: RFC 8866 §5 text never holds CR, LF or NUL, and
 * the fields the SDP grammar separates with spaces (tokens, addresses, ice-chars, URIs) hold no
 * whitespace at all.
 */
import { JingleMappingError } from './mapping-error.js';

const LINE_BREAKING = /[\r\n\0]/;
const NOT_A_TOKEN = /[\s\u0000-\u001f\u007f]/u;

/** A value that fills one space-separated SDP field. */
export function sdpToken(value: string, what: string): string {
  if (value === '' || NOT_A_TOKEN.test(value)) throw new JingleMappingError(`${what} ${JSON.stringify(value.slice(0, 40))} is not a single SDP token`);
  return value;
}

/** Free text at the end of an SDP line (a=ssrc value, crypto session parameters). */
export function sdpText(value: string, what: string): string {
  if (LINE_BREAKING.test(value)) throw new JingleMappingError(`${what} holds a line break`);
  return value;
}

/** Last line of defence: no string anywhere in the description may break an SDP line. */
export function assertNoLineBreaks(value: unknown, path = 'sdp'): void {
  if (typeof value === 'string') {
    sdpText(value, path);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => assertNoLineBreaks(item, `${path}[${index}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) assertNoLineBreaks(item, `${path}.${key}`);
  }
}
