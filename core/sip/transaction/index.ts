/** The SIP transaction layer: RFC 3261 §17 with the RFC 6026 Accepted states. */
export { TransactionLayer, type ClientTransaction, type ServerTransaction, type TransactionLayerOptions, type ClientOutcome } from './transaction-layer.js';
export { ClientInviteTransaction } from './client-invite-transaction.js';
export { ClientNonInviteTransaction } from './client-non-invite-transaction.js';
export { ServerInviteTransaction, DEFAULT_TRYING_DELAY } from './server-invite-transaction.js';
export { ServerNonInviteTransaction } from './server-non-invite-transaction.js';
export {
  TransactionState,
  type ClientTransactionDelegate,
  type ServerTransactionDelegate,
  type Transaction,
} from './types.js';
export { DEFAULT_TIMERS, resolveTimers, type TimerValues } from './timers.js';
export { createAckForNonSuccess, createCancel } from './ack-and-cancel.js';
export { responseTarget } from './response-target.js';
export { isRfc3261Branch } from './transaction-keys.js';
