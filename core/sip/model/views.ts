import type { NameAddr } from './name-addr.js';
import type { SipParam } from './uri.js';

/** One Via value (RFC 3261 §20.42). */
export interface Via {
  /** `SIP/2.0` (upper-cased). */
  readonly protocol: string;
  /** Upper-cased transport token: UDP, TCP, TLS, SCTP, WS, WSS or an extension (RFC 4475 §3.1.1.10). */
  readonly transport: string;
  /** sent-by host (IPv6 references keep their brackets). */
  readonly host: string;
  readonly port?: number;
  readonly params: readonly SipParam[];
  /** The branch parameter, when present. */
  readonly branch?: string;
}

/** CSeq (RFC 3261 §20.16): sequence number 0..2^32-1 and the method. */
export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** A Contact value: a binding, or `*` (only in a REGISTER with Expires: 0, RFC 3261 §10.2.2). */
export type Contact = ContactBinding | { readonly star: true };

export interface ContactBinding extends NameAddr {
  readonly star?: false;
}

/**
 * Credentials or a challenge (RFC 3261 §20.7/20.44, RFC 7616, RFC 8898/6750).
 * `params` has lower-case names and unquoted values. A Bearer credential may be
 * `Bearer <b64token>` (RFC 6750) or `Bearer access_token="..."` (TS 24.371 A.3.2, R-REG-2):
 * both put the token in `token`.
 */
export interface AuthValue {
  /** As written (`Digest`, `Bearer`, or an unknown scheme kept opaque, RFC 4475 §3.3.7). */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
  readonly token?: string;
}

/** P-Charging-Vector (RFC 7315 §4.6). */
export interface ChargingVector {
  readonly icidValue: string;
  readonly params: readonly SipParam[];
}
