import type { SipParam, Uri } from './uri.js';

/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1).
 * `params` are the *header* parameters after the URI (`;tag=`, `;expires=`), never the URI's
 * own parameters: `<sip:a;p>` puts `p` on the URI, `sip:a;p` puts it here (RFC 4475 §3.3.12-13).
 */
export interface NameAddr {
  /** Display name, unquoted and with quoted-pairs resolved. */
  readonly displayName?: string;
  readonly uri: Uri;
  readonly params: readonly SipParam[];
}
