/**
 * Token buckets by key (a flow, a source IP), for overload control (issue 15: "registrations/s,
 * calls/s, frames/s, bytes/s" per client and per source IP). A key may spend `burst` at once
 * and `ratePerSecond` on average. Unlike the per-session FloodGuard (core/contract), one map
 * serves every key: a bucket is created on first use and forgotten once it would be full again
 * (an idle key costs nothing), so memory is bounded by the keys active in the last
 * `burst / ratePerSecond` seconds. Forgetting happens in a sweep run only when the map has
 * grown past a high-water mark (no timer, nothing per call beyond one Map lookup).
 */
export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
}

/** The first sweep runs at this many keys; the mark then follows the live size (×2). */
const FIRST_SWEEP_AT = 1024;

export class RateBuckets {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #sweepAt = FIRST_SWEEP_AT;

  constructor(limit: RateLimit, now: () => number = Date.now) {
    this.#limit = limit;
    this.#now = now;
  }

  get limit(): RateLimit {
    return this.#limit;
  }

  /**
   * Spends `cost` tokens of `key`'s bucket. Returns 0 when they were there (the work may go
   * ahead), else the milliseconds until they will be (nothing is spent then).
   */
  take(key: string, cost = 1): number {
    const bucket = this.#bucket(key);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.ceil(((cost - bucket.tokens) * 1000) / this.#limit.ratePerSecond);
  }

  /**
   * Spends `cost` tokens even when they are not there (the work already happened, e.g. bytes
   * read): the bucket goes into debt. Returns the milliseconds until it is out of debt (0: none).
   */
  charge(key: string, cost: number): number {
    const bucket = this.#bucket(key);
    bucket.tokens -= cost;
    return bucket.tokens >= 0 ? 0 : Math.ceil((-bucket.tokens * 1000) / this.#limit.ratePerSecond);
  }
  /** `key`'s bucket refilled up to now; a new key starts full (idle keys are swept first). */
  #bucket(key: string): Bucket {
    const now = this.#now();
    const bucket = this.#buckets.get(key);
    if (bucket !== undefined) {
      this.#refill(bucket, now);
      return bucket;
    }
    if (this.#buckets.size >= this.#sweepAt) this.#sweep(now);
    const fresh = { tokens: this.#limit.burst, refilledAt: now };
    this.#buckets.set(key, fresh);
    return fresh;
  }


  /** Keys tracked now (tests: memory stays bounded). */
  get size(): number {
    return this.#buckets.size;
  }

  #refill(bucket: Bucket, now: number): void {
    const elapsedMs = now - bucket.refilledAt;
    if (elapsedMs <= 0) return;
    bucket.refilledAt = now;
    bucket.tokens = Math.min(this.#limit.burst, bucket.tokens + (elapsedMs * this.#limit.ratePerSecond) / 1000);
  }

  /** Forgets every bucket that is full again (it would be created full anyway). */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      this.#refill(bucket, now);
      if (bucket.tokens >= this.#limit.burst) this.#buckets.delete(key);
    }
    this.#sweepAt = Math.max(FIRST_SWEEP_AT, this.#buckets.size * 2);
  }
}
