import { EpcError } from '../errors.js';
import type { W2SipCore } from '../contract/host.js';

/**
 * The `host.sip` plugins get while no SIP core is attached (W2-only tests, the echo example):
 * every call rejects with EPC_ERR_INVALID_STATE rather than pretending to have sent anything.
 */
export const unattachedSipApi: W2SipCore = {
  fromClient: () => Promise.reject(new EpcError('EPC_ERR_INVALID_STATE', 'no SIP core is attached to this W2 server')),
  keepFlow: () => undefined,
  adoptFlow: () => Promise.reject(new EpcError('EPC_ERR_INVALID_STATE', 'no SIP core is attached to this W2 server')),
  releaseFlow: () => Promise.resolve(),
  sessionOpened: () => undefined,
  sessionClosed: () => undefined,
};
