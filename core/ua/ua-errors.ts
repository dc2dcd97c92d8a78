/**
 * The one error a state-changing UE call rejects with when the remote side said no and the
 * method's contract is to resolve with the outcome (subscribe, update, transfer): an EpcError
 * (EPC_ERR_UA_REJECTED) that carries the SIP status and reason, so a plugin maps it to its own
 * wire form without parsing a message (R-JR-3).
 */
import { EpcError } from '../errors.js';

export class UaRejectedError extends EpcError {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, what: string) {
    super('EPC_ERR_UA_REJECTED', `${what}: ${status} ${reason}`);
    this.name = 'UaRejectedError';
    this.status = status;
    this.reason = reason;
  }
}

export function invalidState(message: string): EpcError {
  return new EpcError('EPC_ERR_INVALID_STATE', message);
}

export function invalidArgument(message: string): EpcError {
  return new EpcError('EPC_ERR_UA_INVALID_ARGUMENT', message);
}
