import { EpcError } from '../../errors.js';
import type { SipResponse } from '../model/message.js';
import type { SipTarget } from '../transport/types.js';

/** What one attempt toward one target ended with: a final response, or a thrown error. */
export type AttemptOutcome = SipResponse | Error;

/**
 * RFC 3263 §4.3: move on to the next target after a transport error, a transaction timeout
 * (RFC 3261 §8.1.3.1 treats both as 503) or a 503 response. Any other response is an answer
 * from a working server and ends the search.
 */
export function shouldTryNextTarget(outcome: AttemptOutcome): boolean {
  if (outcome instanceof Error) {
    if (outcome instanceof EpcError) return outcome.code === 'EPC_ERR_SIP_TRANSPORT' || outcome.code === 'EPC_ERR_SIP_TIMEOUT';
    // A raw socket error (ECONNREFUSED, EHOSTUNREACH...) is a transport error; a bug is not.
    return typeof (outcome as NodeJS.ErrnoException).code === 'string';
  }
  return outcome.status === 503;
}

/**
 * The ordered targets of one request and where we are in them. `next()` is called after a
 * failure; a 503's target is remembered so a retried request does not go back to it first.
 */
export class TargetSet {
  readonly #targets: readonly SipTarget[];
  #index = 0;

  constructor(targets: readonly SipTarget[]) {
    if (targets.length === 0) throw new EpcError('EPC_ERR_SIP_RESOLVE', 'a target set needs at least one target');
    this.#targets = targets;
  }

  /** The target to use now; undefined once every target failed. */
  current(): SipTarget | undefined {
    return this.#targets[this.#index];
  }

  /** Marks the current target failed and returns the next one, if any. */
  next(): SipTarget | undefined {
    if (this.#index < this.#targets.length) this.#index++;
    return this.current();
  }

  get tried(): readonly SipTarget[] {
    return this.#targets.slice(0, Math.min(this.#index + 1, this.#targets.length));
  }

  get remaining(): number {
    return Math.max(0, this.#targets.length - this.#index - 1);
  }
}

export interface FailoverResult {
  readonly response: SipResponse;
  /** The target that produced `response`. */
  readonly target: SipTarget;
  /** Targets given up on before it (transport error, timeout or 503). */
  readonly failed: readonly { readonly target: SipTarget; readonly outcome: AttemptOutcome }[];
}

/**
 * Runs `attempt` on each target in order until one gives a response that is not a 503
 * (RFC 3263 §4.3). Each attempt must be a new client transaction with a new branch (RFC 3263
 * §4.3 / RFC 3261 §8.1.3.1). When every target fails, the last 503 is returned as the answer
 * if there was one, else the last error is thrown.
 */
export async function sendWithFailover(
  targets: readonly SipTarget[],
  attempt: (target: SipTarget, index: number) => Promise<SipResponse>,
): Promise<FailoverResult> {
  const set = new TargetSet(targets);
  const failed: { target: SipTarget; outcome: AttemptOutcome }[] = [];
  let lastResponse: { response: SipResponse; target: SipTarget } | undefined;
  for (let target = set.current(), index = 0; target; target = set.next(), index++) {
    let outcome: AttemptOutcome;
    try {
      outcome = await attempt(target, index);
    } catch (err) {
      outcome = err instanceof Error ? err : new EpcError('EPC_ERR_SIP_TRANSPORT', String(err));
    }
    if (!shouldTryNextTarget(outcome)) {
      if (outcome instanceof Error) throw outcome;
      return { response: outcome, target, failed };
    }
    if (!(outcome instanceof Error)) lastResponse = { response: outcome, target };
    failed.push({ target, outcome });
  }
  if (lastResponse) {
    const answer = lastResponse;
    return { ...answer, failed: failed.filter((f) => f.outcome !== answer.response) };
  }
  const last = failed[failed.length - 1]?.outcome;
  throw last instanceof Error ? last : new EpcError('EPC_ERR_SIP_TRANSPORT', 'every next-hop target failed');
}
