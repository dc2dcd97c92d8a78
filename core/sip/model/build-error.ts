import { EpcError } from '../../errors.js';

/**
 * A builder (setHeader, formatNameAddr, quote, formatAuth, a media type, ...) was handed a value
 * the RFC 3261 §25.1 grammar cannot carry: CR or LF in a header value would start a new header
 * line (header injection), a non-token header name would forge one. Nothing is sent; `what`
 * names the part that was refused so a plugin can tell its client which field was wrong.
 */
export class SipBuildError extends EpcError {
  /** The part of the message that was refused (`Content-Type header value`, `display name`). */
  readonly what: string;
  constructor(what: string, problem: string) {
    super('EPC_ERR_SIP_BUILD', `${what}: ${problem}`);
    this.name = 'SipBuildError';
    this.what = what;
  }
}
