/**
 * A request whose procedure needs the shared state (registrations, dialogs) while the state
 * backend cannot be reached (EPC_ERR_STATE_UNAVAILABLE, e.g. Redis down): the P-CSCF answers 503
 * with Retry-After, a temporary condition of this server (RFC 3261 §21.5.4, §20.33), instead of a
 * 500 or silence; the client retries, here or on another node, and the next request works as soon
 * as the backend is back. A REGISTER that would add a binding reads the store before anything
 * goes to Mw (registration-limits.ts), so it is refused without reaching the IMS. A response
 * from Mw that cannot be stored (a de-registration's 200, an INVITE's 2xx) is not relayed: the
 * client gets this 503 instead of 502 (forwarder.ts, RFC 3261 §16.7) and the forwarder ends
 * what the far side set up.
 */
import type { Logger } from 'pino';
import { EpcError } from '../errors.js';
import { createResponse, generateTag, type SipRequest, type SipResponse } from '../sip/index.js';
import type { ServerTransaction } from '../sip/transaction/index.js';

/** Seconds the client is asked to wait: a Redis restart or Sentinel failover takes a few. */
export const STATE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

export function isStateUnavailable(error: unknown): error is EpcError {
  return error instanceof EpcError && error.code === 'EPC_ERR_STATE_UNAVAILABLE';
}

/** 503 for `request`, the cause in the reason phrase (never the store's address or error text); a To tag of ours (RFC 3261 §8.2.6.2). */
export function stateUnavailableResponse(request: SipRequest): SipResponse {
  return createResponse(request, 503, 'Service Unavailable - registration and session state temporarily unreachable', {
    toTag: generateTag(), headers: [['Retry-After', String(STATE_UNAVAILABLE_RETRY_AFTER_SECONDS)]],
  });
}

/** When `error` says the state is unavailable: answers `tx` with the 503 and returns true; else false. */
export function answeredStateUnavailable(tx: ServerTransaction, error: unknown, log: Logger): boolean {
  if (!isStateUnavailable(error)) return false;
  // The backend logs each outage once; one line per refused request only at debug.
  log.debug({ method: tx.request.method, detail: error.message }, 'shared state unavailable: request refused with 503');
  tx.respond(stateUnavailableResponse(tx.request));
  return true;
}
