import { EpcError } from '../../../core/contract/index.js';

/**
 * A Jingle description or an SDP that cannot be carried to the other side without losing
 * something the call needs. The plugin answers a Jingle IQ carrying it with <bad-request/> (or
 * terminates with <incompatible-parameters/>), and an SDP from the IMS side with a 488.
 */
export class JingleMappingError extends EpcError {
  constructor(reason: string) {
    super('EPC_ERR_JINGLE_MAPPING', reason);
    this.name = 'JingleMappingError';
  }
}
