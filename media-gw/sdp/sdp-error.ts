import { EpcError } from '../../core/errors.js';

/**
 * An SDP the IMS-ALG cannot relay. `status` is what the P-CSCF answers to the request that
 * carried it: 488 Not Acceptable Here when nothing can be relayed (RFC 3261 §21.4.26), 400 when
 * the body is not SDP at all. `warning` is the RFC 3261 §20.43 code for a Warning header
 * (304 media type not available, 305 incompatible media format, 399 miscellaneous).
 *
 * When an *answer* cannot be relayed there is no request left to reject; the caller then ends the
 * session instead (BYE/CANCEL), using the reason in its logs.
 */
export class SdpError extends EpcError {
  readonly status: 400 | 488;
  readonly warning: 304 | 305 | 399;
  readonly reason: string;
  constructor(reason: string, status: 400 | 488 = 488, warning: 304 | 305 | 399 = 305) {
    super('EPC_ERR_SDP_NOT_ACCEPTABLE', reason);
    this.name = 'SdpError';
    this.status = status;
    this.warning = warning;
    this.reason = reason;
  }
}
