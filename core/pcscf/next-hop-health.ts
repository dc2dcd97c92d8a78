/**
 * Health of the Mw next hops (issue 11 #10): with the IMS core unreachable, requests from W2
 * used to wait the full 32 s of Timer B/F before a 408/504. Here each Mw target counts as
 * down after `failuresToDown` failures in a row — an OPTIONS keep-alive that got no answer
 * within the probe interval, or a real transaction that timed out or could not be sent — and
 * up again as soon as anything answers (any 1xx-6xx, RFC 3261 §11: OPTIONS answered means
 * alive). While a target is down, requests that would go there are answered 503 with
 * Retry-After at once (RFC 3261 §21.5.4) and /ready reports it.
 */
import type { Logger } from 'pino';
import type { NextHopProbeConfig } from '../config/config-types.js';
import { createRequest, generateBranch, generateTag, type SipRequest } from '../sip/index.js';
import type { TransactionLayer } from '../sip/transaction/index.js';
import type { SipTarget } from '../sip/transport/types.js';

/** Call-ID prefix of our probes: their outcomes are counted by the probe, not twice. */
export const PROBE_CALL_ID_PREFIX = 'epcscf-nexthop-probe-';

/** Down targets learnt from per-request routing are kept up to this many (bounded memory). */
const MAX_TRACKED_TARGETS = 1024;

export interface NextHopStatus {
  /** `transport:host:port` */
  readonly target: string;
  readonly up: boolean;
  readonly consecutiveFailures: number;
  /** Why it is down (the last failure). */
  readonly reason?: string;
}

export interface NextHopHealthOptions {
  readonly probe: NextHopProbeConfig;
  /** Where the OPTIONS keep-alives go (the configured mw.nextHop, resolved); empty: none. */
  readonly probeTargets: () => Promise<readonly SipTarget[]>;
  /** Sends one probe; resolves true when the target answered anything before `deadlineMs`. */
  readonly sendProbe: (target: SipTarget, deadlineMs: number) => Promise<boolean>;
  readonly log: Logger;
  /** Each up/down transition (metrics). */
  readonly onChange?: (status: NextHopStatus) => void;
}

interface TargetState {
  readonly target: SipTarget;
  up: boolean;
  failures: number;
  reason: string | undefined;
  /** When a down target may be tried again without probes (intervalMs 0). */
  retryAt: number;
  probing: boolean;
}

export class NextHopHealth {
  readonly #options: NextHopHealthOptions;
  readonly #states = new Map<string, TargetState>();
  #timer: NodeJS.Timeout | undefined;
  #refused = 0;
  #closed = false;

  constructor(options: NextHopHealthOptions) {
    this.#options = options;
  }

  /** Starts the OPTIONS keep-alives (none when intervalMs is 0). */
  start(): void {
    const interval = this.#options.probe.intervalMs;
    if (interval <= 0 || this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => void this.probeNow(), interval);
    this.#timer.unref();
    void this.probeNow();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Requests answered 503 because their next hop was down (metrics). */
  get refused(): number { return this.#refused; }

  /** Retry-After seconds of the 503 answered while a target is down. */
  get retryAfterSeconds(): number { return this.#options.probe.retryAfterSeconds; }

  /** Every tracked target; `ready` when none is down. */
  status(): NextHopStatus[] {
    return [...this.#states.entries()].map(([target, s]) => ({
      target, up: s.up, consecutiveFailures: s.failures, ...(s.reason !== undefined ? { reason: s.reason } : {}),
    }));
  }

  /**
   * The targets a request may use now: down ones are left out. Empty means "answer 503 now";
   * the refusal is counted.
   */
  usable(targets: readonly SipTarget[]): SipTarget[] {
    const usable = targets.filter((target) => !this.#isDown(target));
    if (usable.length === 0 && targets.length > 0) this.#refused++;
    return usable;
  }

  /** A client transaction toward `target` ended (TransactionLayer `onClientOutcome`). */
  observe(request: SipRequest, target: SipTarget, outcome: 'response' | 'timeout' | 'transport-error'): void {
    if (request.method === 'OPTIONS' && isProbe(request)) return;
    if (outcome === 'response') this.#answered(target);
    else this.#failed(target, outcome === 'timeout' ? 'transaction timed out' : 'transport error');
  }

  /** One round of OPTIONS keep-alives: the configured next hop plus every target that is down. */
  async probeNow(): Promise<void> {
    let targets: readonly SipTarget[] = [];
    try {
      targets = await this.#options.probeTargets();
    } catch (error) {
      this.#options.log.debug({ err: error }, 'next hop not resolvable for the keep-alive');
    }
    const round = new Map<string, SipTarget>();
    for (const target of targets) round.set(keyOf(target), target);
    for (const [key, state] of this.#states) if (!state.up) round.set(key, state.target);
    const deadline = Math.max(this.#options.probe.intervalMs, 1_000);
    await Promise.all([...round.values()].map(async (target) => {
      const state = this.#state(target);
      if (state.probing || this.#closed) return;
      state.probing = true;
      try {
        const answered = await this.#options.sendProbe(target, deadline).catch(() => false);
        if (this.#closed) return;
        if (answered) this.#answered(target);
        else this.#failed(target, `no answer to OPTIONS within ${deadline} ms`);
      } finally {
        state.probing = false;
      }
    }));
  }

  #isDown(target: SipTarget): boolean {
    const state = this.#states.get(keyOf(target));
    if (state === undefined || state.up) return false;
    // Without probes, a down target is given another chance once Retry-After has passed.
    if (this.#options.probe.intervalMs <= 0 && Date.now() >= state.retryAt) {
      state.retryAt = Date.now() + this.#options.probe.retryAfterSeconds * 1000;
      return false;
    }
    return true;
  }

  #answered(target: SipTarget): void {
    const state = this.#states.get(keyOf(target));
    if (state === undefined) return;
    state.failures = 0;
    state.reason = undefined;
    if (!state.up) {
      state.up = true;
      this.#options.log.warn({ target: keyOf(target) }, 'Mw next hop answers again: up');
      this.#options.onChange?.(this.#statusOf(target, state));
    }
  }

  #failed(target: SipTarget, reason: string): void {
    const state = this.#state(target);
    state.failures++;
    state.reason = reason;
    if (state.up && state.failures >= this.#options.probe.failuresToDown) {
      state.up = false;
      state.retryAt = Date.now() + this.#options.probe.retryAfterSeconds * 1000;
      this.#options.log.warn({ target: keyOf(target), failures: state.failures, reason }, 'Mw next hop unresponsive: down (requests toward it get 503 until it answers)');
      this.#options.onChange?.(this.#statusOf(target, state));
    }
  }

  #state(target: SipTarget): TargetState {
    const key = keyOf(target);
    let state = this.#states.get(key);
    if (state === undefined) {
      if (this.#states.size >= MAX_TRACKED_TARGETS) this.#forgetOneHealthy();
      state = { target: { transport: target.transport, host: target.host, port: target.port }, up: true, failures: 0, reason: undefined, retryAt: 0, probing: false };
      this.#states.set(key, state);
    }
    return state;
  }

  #forgetOneHealthy(): void {
    for (const [key, state] of this.#states) {
      if (state.up && !state.probing) { this.#states.delete(key); return; }
    }
  }

  #statusOf(target: SipTarget, state: TargetState): NextHopStatus {
    return { target: keyOf(target), up: state.up, consecutiveFailures: state.failures, ...(state.reason !== undefined ? { reason: state.reason } : {}) };
  }
}

/** `transport:host:port`: a connection id does not make another next hop. */
export function keyOf(target: Pick<SipTarget, 'transport' | 'host' | 'port'>): string {
  return `${target.transport}:${target.host}:${target.port}`;
}

function isProbe(request: SipRequest): boolean {
  const callId = request.headers.find((h) => h.name === 'Call-ID')?.value;
  return callId !== undefined && callId.startsWith(PROBE_CALL_ID_PREFIX);
}

/** The OPTIONS keep-alive (RFC 3261 §11): Max-Forwards 0 would stop at the first proxy, so 70. */
export function probeRequest(uri: string, via: string, from: string, cseq: number): SipRequest {
  return createRequest({
    method: 'OPTIONS', uri,
    headers: [
      ['Via', via], ['Max-Forwards', '70'], ['From', `<${from}>;tag=${generateTag()}`], ['To', `<${uri}>`],
      ['Call-ID', `${PROBE_CALL_ID_PREFIX}${generateBranch().slice(7)}`], ['CSeq', `${cseq} OPTIONS`], ['Accept', 'application/sdp'],
    ],
  });
}

/**
 * Sends `request` in its own client transaction and resolves whether anything answered before
 * `deadlineMs` (the transaction may keep retransmitting: its own Timer F ends it).
 */
export function sendProbe(layer: TransactionLayer, request: SipRequest, target: SipTarget, deadlineMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), deadlineMs);
    timer.unref();
    const done = (answered: boolean): void => { clearTimeout(timer); resolve(answered); };
    try {
      layer.sendRequest(request, target, {
        onProvisional: () => done(true), onFinal: () => done(true), onTimeout: () => done(false), onTransportError: () => done(false),
      });
    } catch {
      done(false);
    }
  });
}
