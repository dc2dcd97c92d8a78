/**
 * RFC 7395 §3.2 / R-XWS-2: XMPP travels in WebSocket TEXT messages, which RFC 6455 §8.1 requires
 * to be valid UTF-8. The core's WebSocket layer (ws, UTF-8 validation on) already fails a
 * connection whose text message is not UTF-8 (close 1007) before any plugin sees it, so the
 * plugin receives strings. This check is for bytes that reach the plugin by another way (a
 * binary message the plugin chooses to read, a test client): invalid UTF-8 is RFC 6120
 * §4.9.3.22 <unsupported-encoding/>, never silently replaced with U+FFFD.
 */
import { XmppStreamError } from './stream-error.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeUtf8Strict(bytes: Uint8Array): string | XmppStreamError {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return new XmppStreamError('unsupported-encoding', 'message is not valid UTF-8');
  }
}
