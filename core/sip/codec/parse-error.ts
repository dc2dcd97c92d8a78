import { EpcError } from '../../errors.js';

/**
 * A message that cannot be accepted. `status` is what a server should answer to a request
 * (400, 505, 501, 416, ...), or `'drop'` for a response, which is silently discarded
 * (RFC 3261 §18.1.2, RFC 4475 §3.1.2.19).
 */
export class SipParseError extends EpcError {
  readonly status: number | 'drop';
  /** Short human-readable reason, fit for a reason phrase or a Warning header. */
  readonly reason: string;
  constructor(reason: string, status: number | 'drop' = 400) {
    super('EPC_ERR_SIP_PARSE', reason);
    this.name = 'SipParseError';
    this.status = status;
    this.reason = reason;
  }
}

/** Shorthand used across the grammar: a 400 with a reason. */
export function malformed(reason: string): SipParseError {
  return new SipParseError(reason, 400);
}
