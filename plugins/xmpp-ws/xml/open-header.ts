/**
 * Checks of the client's framing <open/> (RFC 7395 §3.4, RFC 6120 §4.7): which stream error
 * the server answers instead of accepting the stream. The server still sends its own <open/>
 * first and then the error (R-XWS-7).
 */
import type { XmlElement } from './element.js';
import { XmppStreamError } from './stream-error.js';

export interface ClientOpen {
  /** The domain the client wants to talk to. */
  readonly to: string;
  readonly lang: string | undefined;
}

/**
 * `servedDomains` are the domains this server answers for (RFC 6120 §4.9.3.6 host-unknown
 * otherwise). Returns the accepted header or the stream error to send.
 */
export function checkClientOpen(open: XmlElement, servedDomains: ReadonlySet<string>): ClientOpen | XmppStreamError {
  // RFC 6120 §4.7.5: version 1.0 is what we speak; a higher major or missing version is refused.
  const version = open.attrs.version;
  if (version !== '1.0') return new XmppStreamError('unsupported-version', `version ${version ?? '(none)'}`);
  const to = open.attrs.to;
  if (to === undefined || to === '') return new XmppStreamError('host-unknown', 'no to attribute');
  if (!servedDomains.has(to.toLowerCase())) return new XmppStreamError('host-unknown', `domain ${to} not served here`);
  return { to: to.toLowerCase(), lang: open.attrs['xml:lang'] };
}
