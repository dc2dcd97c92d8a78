/**
 * The virtual UE's client transactions over the reliable W2 seam (RFC 3261 §17.1 without the
 * retransmission timers): responses are matched by top-Via branch and CSeq method (§17.1.3),
 * a non-2xx final to an INVITE is ACKed here (§17.1.1.3), Timer B/F (64*T1) ends a request that
 * never got an answer with a local 408 (§8.1.3.1), a failed send ends it with 503, and a 401/407
 * is answered once with digest credentials (§22.2, §22.3) as a new request with CSeq + 1.
 */
import type { Logger } from 'pino';
import {
  authValues, createResponse, cseq, formatDigestCredentials, formatUri, generateBranch, setHeader, topVia,
  type DigestClient, type SipMessage, type SipRequest, type SipResponse,
} from '../sip/index.js';
import type { Clock, TimerHandle } from '../sip/clock.js';
import { createAckForNonSuccess } from '../sip/transaction/index.js';
import type { DigestRealmSnapshot } from './registration-snapshot.js';
import { TRANSACTION_TIMEOUT_MS } from './ua-timers.js';

export interface ClientHandler {
  /** A 1xx (100 included). */
  onProvisional?(response: SipResponse, request: SipRequest): void;
  /** The final response (or the local 408/503); `request` is the one it answers. */
  onFinal(response: SipResponse, request: SipRequest): void;
  /** A later 2xx for an INVITE already answered (a retransmission or another fork, RFC 3261 §13.2.2.4). */
  onExtra2xx?(response: SipResponse, request: SipRequest): void;
  /** The request was re-sent with credentials (new branch, CSeq + 1): owners track the CSeq. */
  onRetry?(request: SipRequest): void;
}

interface Pending {
  request: SipRequest;
  readonly handler: ClientHandler;
  timer: TimerHandle | undefined;
  completed: boolean;
  authTried: boolean;
}

const keyOf = (branch: string, method: string): string => `${branch} ${method}`;

export class ClientTransactions {
  readonly #send: (message: SipMessage) => Promise<void>;
  readonly #clock: Clock;
  readonly #digest: DigestClient | undefined;
  readonly #log: Logger;
  readonly #via: (branch: string) => string;
  readonly #pending = new Map<string, Pending>();

  constructor(options: {
    send: (message: SipMessage) => Promise<void>; clock: Clock; digest: DigestClient | undefined; log: Logger;
    via: (branch: string) => string;
  }) {
    this.#send = options.send;
    this.#clock = options.clock;
    this.#digest = options.digest;
    this.#log = options.log;
    this.#via = options.via;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** The digest client's remembered challenges (registration-snapshot.ts); empty without a password. */
  digestSnapshot(): DigestRealmSnapshot[] {
    return this.#digest?.snapshot() ?? [];
  }

  /** Takes over another node's remembered challenges for this UE (registration-snapshot.ts). */
  restoreDigest(realms: readonly DigestRealmSnapshot[]): void {
    this.#digest?.restore(realms);
  }

  /** True when challenges are answered (the UE has a digest password). */
  get hasDigest(): boolean {
    return this.#digest !== undefined;
  }

  /** Sends `request` (its top Via carries the branch) and reports what comes back to `handler`. */
  start(request: SipRequest, handler: ClientHandler): void {
    const branch = topVia(request).branch ?? '';
    const entry: Pending = { request, handler, timer: undefined, completed: false, authTried: false };
    this.#pending.set(keyOf(branch, request.method), entry);
    this.#arm(entry, branch);
    this.#transmit(entry, branch);
  }

  /**
   * Credentials for a request before any challenge, reusing the last nonce of the realm with
   * the next nonce count (RFC 7616 §3.4; TS 24.229 §5.1.1.4.1: a re-REGISTER carries the
   * Authorization of the current security context). Unchanged when nothing is known yet.
   */
  preAuthorize(request: SipRequest): SipRequest {
    const realm = this.#digest?.realms[0];
    if (this.#digest === undefined || realm === undefined) return request;
    const answer = this.#digest.authorize(realm, { method: request.method, uri: formatUri(request.uri), body: request.body });
    return answer === undefined ? request : setHeader(request, 'Authorization', formatDigestCredentials(answer));
  }

  /** Sends a message outside any client transaction (responses, ACK for 2xx). */
  sendStateless(message: SipMessage): void {
    void this.#send(message).catch((error: unknown) => this.#log.debug({ err: error }, 'virtual UE: stateless send failed'));
  }

  /** Delivers a response; false when no transaction claims it. */
  receive(response: SipResponse): boolean {
    let branch: string;
    let method: string;
    try {
      branch = topVia(response).branch ?? '';
      method = cseq(response).method;
    } catch {
      return false;
    }
    const key = keyOf(branch, method);
    const entry = this.#pending.get(key);
    if (entry === undefined) return false;
    if (response.status < 200) {
      if (entry.completed) return true;
      // RFC 3261 §17.1.1.2: a provisional moves an INVITE to Proceeding: Timer B no longer runs.
      if (entry.request.method === 'INVITE') this.#disarm(entry);
      entry.handler.onProvisional?.(response, entry.request);
      return true;
    }
    if (entry.completed) {
      if (response.status < 300 && entry.request.method === 'INVITE') entry.handler.onExtra2xx?.(response, entry.request);
      return true;
    }
    if (this.#retryWithCredentials(entry, key, response)) return true;
    this.#complete(entry, key, response);
    return true;
  }

  /** Forgets every transaction and timer (the UE closed); no handler is called. */
  clear(): void {
    for (const entry of this.#pending.values()) this.#disarm(entry);
    this.#pending.clear();
  }

  #complete(entry: Pending, key: string, response: SipResponse): void {
    entry.completed = true;
    this.#disarm(entry);
    if (response.status !== 401 && response.status !== 407) this.#digest?.accepted();
    if (entry.request.method === 'INVITE') {
      // RFC 3261 §17.1.1.3: the transaction ACKs a 3xx-6xx itself (same branch as the INVITE).
      if (response.status >= 300) this.sendStateless(createAckForNonSuccess(entry.request, response));
      // Keep the entry a while for 2xx retransmissions and other forks (RFC 6026 §7.2 Timer M).
      entry.timer = this.#clock.setTimeout(() => this.#pending.delete(key), TRANSACTION_TIMEOUT_MS);
    } else {
      this.#pending.delete(key);
    }
    entry.handler.onFinal(response, entry.request);
  }

  /** RFC 3261 §22.2/§22.3: one retry with credentials; a second challenge is final. */
  #retryWithCredentials(entry: Pending, key: string, response: SipResponse): boolean {
    if ((response.status !== 401 && response.status !== 407) || this.#digest === undefined || entry.authTried) return false;
    const request = entry.request;
    const challengeHeader = response.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    let answer;
    try {
      answer = this.#digest.respond(authValues(response, challengeHeader), { method: request.method, uri: formatUri(request.uri), body: request.body });
    } catch (error) {
      this.#log.warn({ err: error }, 'virtual UE: digest challenge not answerable');
      return false;
    }
    if (answer === undefined) return false;
    if (request.method === 'INVITE') this.sendStateless(createAckForNonSuccess(request, response));
    this.#disarm(entry);
    this.#pending.delete(key);
    const branch = generateBranch();
    const { seq } = cseq(request);
    let retry = setHeader(request, 'Via', this.#via(branch));
    retry = setHeader(retry, 'CSeq', `${seq + 1} ${request.method}`);
    retry = setHeader(retry, response.status === 401 ? 'Authorization' : 'Proxy-Authorization', formatDigestCredentials(answer));
    const next: Pending = { request: retry, handler: entry.handler, timer: undefined, completed: false, authTried: true };
    this.#pending.set(keyOf(branch, request.method), next);
    entry.handler.onRetry?.(retry);
    this.#arm(next, branch);
    this.#transmit(next, branch);
    return true;
  }

  #arm(entry: Pending, branch: string): void {
    // RFC 3261 §17.1.1.2 Timer B / §17.1.2.2 Timer F: no final within 64*T1 → 408 to the TU.
    entry.timer = this.#clock.setTimeout(() => {
      entry.timer = undefined;
      this.#localFinal(entry, branch, 408, 'Request Timeout');
    }, TRANSACTION_TIMEOUT_MS);
  }

  #disarm(entry: Pending): void {
    if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  #transmit(entry: Pending, branch: string): void {
    void this.#send(entry.request).catch((error: unknown) => {
      // RFC 3261 §8.1.3.1: a transport failure is treated as a 503.
      this.#log.debug({ err: error }, 'virtual UE: request could not be sent');
      this.#localFinal(entry, branch, 503, 'Service Unavailable');
    });
  }

  #localFinal(entry: Pending, branch: string, status: number, reason: string): void {
    const key = keyOf(branch, entry.request.method);
    if (entry.completed || this.#pending.get(key) !== entry) return;
    const response = createResponse(entry.request, status, reason);
    entry.completed = true;
    this.#disarm(entry);
    this.#pending.delete(key);
    entry.handler.onFinal(response, entry.request);
  }
}
