import type { Uri } from './uri.js';

/** The methods this stack knows by name; any other token is a legal extension method. */
export type KnownMethod =
  | 'REGISTER' | 'INVITE' | 'ACK' | 'BYE' | 'CANCEL' | 'OPTIONS' | 'MESSAGE' | 'SUBSCRIBE'
  | 'NOTIFY' | 'PUBLISH' | 'INFO' | 'UPDATE' | 'PRACK' | 'REFER';
// The `string & {}` keeps editor completion for known methods while allowing extensions.
export type SipMethod = KnownMethod | (string & {});

/**
 * One header field line. `name` is the canonical long form (`Call-ID`, `Via`; compact forms
 * expanded), `value` the unfolded field value with surrounding whitespace removed. A line
 * that carries a comma-separated list stays one entry; `getHeaders()` splits it.
 */
export interface SipHeader {
  readonly name: string;
  readonly value: string;
}

interface SipMessageBase {
  /** In wire order. Unknown headers are kept opaque and forwarded unchanged. */
  readonly headers: readonly SipHeader[];
  /** Exactly Content-Length bytes (binary safe: multipart bodies may hold NULs, RFC 4475 §3.1.1.11). */
  readonly body: Uint8Array;
}

export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  readonly method: SipMethod;
  readonly uri: Uri;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  /** 100-699 (RFC 3261 §7.2). */
  readonly status: number;
  /** May be empty (RFC 4475 §3.1.1.13) or hold UTF-8 (§3.1.1.12). */
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;

export function isRequest(msg: SipMessage): msg is SipRequest {
  return msg.kind === 'request';
}
