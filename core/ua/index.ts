/**
 * core/ua — the virtual Gm UE for non-SIP plugins (docs/architecture.md). The contract is
 * api.ts; `createVirtualUe` builds one UE per W2 client.
 */
import type { Logger } from 'pino';
import type { Clock } from '../sip/clock.js';
import type { VirtualUe, VirtualUeOptions } from './api.js';
import { VirtualUeImpl } from './virtual-ue.js';

export type * from './api.js';
export { UaRejectedError } from './ua-errors.js';
export { readRegistrationSnapshot, type RegistrationSnapshot, type DigestRealmSnapshot } from './registration-snapshot.js';
export { checkBearerToken, checkBodyType, checkDisplayName, checkPrivateIdentity, parseTarget, targetText } from './client-input.js';

/** One virtual UE bound to one W2 connection (`options.transport` = host.sip.fromClient for it). */
export function createVirtualUe(options: VirtualUeOptions & { clock?: Clock; log?: Logger }): VirtualUe {
  return new VirtualUeImpl(options);
}
