/**
 * Rates of the requests that cost the IMS core most (issue 15 "Overload control":
 * registrations/s and calls/s per client and per source IP). Every REGISTER costs the S-CSCF a
 * Diameter round trip to the HSS, every initial INVITE a session and media ports; the caps on
 * concurrent calls and bindings (call-limits.ts, registration-limits.ts) bound what a client
 * holds, these bound how fast it may ask. Token buckets (core/overload/rate-buckets.ts): a
 * client may send a burst (a REGISTER and its digest retry, a few calls set up at once) and a
 * sustained rate; clients behind one NAT share the per-IP bucket.
 *
 * The refusal is 503 with Retry-After (RFC 3261 §21.5.4: a temporary overload of this server;
 * §20.33: the client may try again once its bucket has a token), with the reason in the phrase,
 * and nothing goes to Mw. A virtual UE (jsonrpc-ws, xmpp-ws) gets the same 503 and its plugin
 * reports it to its client in that protocol's terms. CANCEL, ACK and in-dialog requests are
 * never counted (they end or continue what the client already has).
 */
import { createResponse, type SipRequest, type SipResponse } from '../sip/index.js';
import { RateBuckets, type RateLimit } from '../overload/rate-buckets.js';

export interface RequestRateLimits {
  readonly registrationsPerClient: RateLimit;
  readonly registrationsPerIp: RateLimit;
  readonly callsPerClient: RateLimit;
  readonly callsPerIp: RateLimit;
}

export type RequestRateRefusalReason =
  | 'registration_rate_per_client' | 'registration_rate_per_ip' | 'call_rate_per_client' | 'call_rate_per_ip';

interface Pair {
  readonly perClient: RateBuckets;
  readonly perIp: RateBuckets;
  readonly clientReason: RequestRateRefusalReason;
  readonly ipReason: RequestRateRefusalReason;
  readonly what: string;
}

export class RequestRates {
  readonly #registrations: Pair;
  readonly #calls: Pair;

  constructor(limits: RequestRateLimits, now: () => number = Date.now) {
    this.#registrations = {
      perClient: new RateBuckets(limits.registrationsPerClient, now), perIp: new RateBuckets(limits.registrationsPerIp, now),
      clientReason: 'registration_rate_per_client', ipReason: 'registration_rate_per_ip', what: 'registrations',
    };
    this.#calls = {
      perClient: new RateBuckets(limits.callsPerClient, now), perIp: new RateBuckets(limits.callsPerIp, now),
      clientReason: 'call_rate_per_client', ipReason: 'call_rate_per_ip', what: 'calls',
    };
  }

  /**
   * A request from a W2 flow (`flowKey`, source `ip`) outside any dialog: undefined when
   * admitted (counted), else the 503 to send and its reason. Only REGISTER and initial INVITE
   * are counted; the caller passes nothing else.
   */
  admit(request: SipRequest, flowKey: string, ip: string): { response: SipResponse; reason: RequestRateRefusalReason } | undefined {
    const pair = request.method === 'REGISTER' ? this.#registrations : request.method === 'INVITE' ? this.#calls : undefined;
    if (pair === undefined) return undefined;
    // The client's own bucket first: a flooding client refused there spends nothing of the
    // budget it shares with its neighbours behind the same address.
    const clientWait = pair.perClient.take(flowKey);
    if (clientWait > 0) return { reason: pair.clientReason, response: refusal(request, `too many ${pair.what} on this connection (at most ${describe(pair.perClient)})`, clientWait) };
    const ipWait = pair.perIp.take(ip);
    if (ipWait > 0) return { reason: pair.ipReason, response: refusal(request, `too many ${pair.what} from this address (at most ${describe(pair.perIp)})`, ipWait) };
    return undefined;
  }
}

function describe(buckets: RateBuckets): string {
  return `${buckets.limit.ratePerSecond}/s`;
}

function refusal(request: SipRequest, why: string, waitMs: number): SipResponse {
  // RFC 3261 §21.5.4 + §20.33: temporary, with when a token is there again (whole seconds, at least 1).
  const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
  return createResponse(request, 503, `Service Unavailable - ${why}`, { headers: [['Retry-After', String(retryAfter)]] });
}
