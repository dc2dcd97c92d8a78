/**
 * CONF (TS 24.147 §5.3.1.3.2, RFC 4579 §5.3): a focus answers the INVITE with a Contact that
 * carries the `isfocus` feature parameter (RFC 3840 §9); that Contact URI is the conference URI
 * the UE REFERs parties to and SUBSCRIBEs `Event: conference` at.
 */
import { contacts, formatUri, hasParam, type SipResponse } from '../sip/index.js';

/** The conference URI of a 2xx from a focus, undefined when its Contact has no `isfocus`. */
export function focusUri(response: SipResponse): string | undefined {
  let contact;
  try {
    contact = contacts(response)[0];
  } catch {
    return undefined; // a malformed Contact is not a focus's
  }
  if (contact === undefined || !('uri' in contact) || !hasParam(contact.params, 'isfocus')) return undefined;
  return formatUri(contact.uri);
}

/** TS 23.003 §13.10 as TS 24.605 §4.2.1 uses it when none is configured: `sip:mmtel@conf-factory.<home domain>`. */
export function derivedConferenceFactoryUri(homeDomain: string): string {
  return `sip:mmtel@conf-factory.${homeDomain}`;
}
