/**
 * Per-session flood control for any W2 plugin (sip-ws and jsonrpc-ws use it): a token bucket.
 * A client may send `burst` messages at once and `ratePerSecond` on average; the first message
 * beyond that means the session is cut off
 * (the issue: "flooding clients are cut off without affecting others").
 *
 * A plugin that first mutes (refuses messages) and cuts off only a sustained flood reads
 * `refusedWhileFlooding`: the refusals since the bucket was last at least half full. Counting
 * refusals "in a row" instead let a client sending at a few times the rate flood for ever, since
 * every token that trickles back in reset the count (issue 11 #11).
 */
export interface FloodLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export class FloodGuard {
  readonly #limits: FloodLimits;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;
  #refusedWhileFlooding = 0;

  constructor(limits: FloodLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
    this.#tokens = limits.burst;
    this.#refilledAt = now();
  }

  /** Takes one token; false when the bucket is empty (the client exceeds its limits). */
  take(): boolean {
    const now = this.#now();
    const elapsedMs = Math.max(0, now - this.#refilledAt);
    this.#refilledAt = now;
    this.#tokens = Math.min(this.#limits.burst, this.#tokens + (elapsedMs * this.#limits.ratePerSecond) / 1000);
    // The client slowed down enough for the bucket to refill halfway: any flood is over.
    if (this.#tokens * 2 >= this.#limits.burst) this.#refusedWhileFlooding = 0;
    if (this.#tokens < 1) {
      this.#refusedWhileFlooding += 1;
      return false;
    }
    this.#tokens -= 1;
    return true;
  }

  /** Refusals since the bucket was last at least half full (a sustained flood keeps it growing). */
  get refusedWhileFlooding(): number {
    return this.#refusedWhileFlooding;
  }
}
