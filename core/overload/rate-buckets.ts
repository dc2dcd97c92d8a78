/**
 * Token buckets by key (a flow, a source IP), for overload control (issue 15: "registrations/s,
 * calls/s, frames/s, bytes/s" per client and per source IP). A key may spend `burst` at once
 * and `ratePerSecond` on average. Unlike the per-session FloodGuard (core/contract), one map
 * serves every key: a bucket is created on first use and forgotten once it would be full again
 * (an idle key costs nothing), so memory is bounded by the keys active in the last
 * `burst / ratePerSecond` seconds (bucket-map.ts: a sweep only past a high-water mark, no timer).
 */
import { BucketMap } from './bucket-map.js';

export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
}

export class RateBuckets {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #buckets: BucketMap<Bucket>;

  constructor(limit: RateLimit, now: () => number = Date.now) {
    this.#limit = limit;
    this.#now = now;
    this.#buckets = new BucketMap<Bucket>({
      create: (at) => ({ tokens: limit.burst, refilledAt: at }),
      refill: (bucket, at) => {
        const elapsedMs = at - bucket.refilledAt;
        if (elapsedMs <= 0) return;
        bucket.refilledAt = at;
        bucket.tokens = Math.min(limit.burst, bucket.tokens + (elapsedMs * limit.ratePerSecond) / 1000);
      },
      isFull: (bucket) => bucket.tokens >= limit.burst,
    });
  }

  get limit(): RateLimit {
    return this.#limit;
  }

  /**
   * Spends `cost` tokens of `key`'s bucket. Returns 0 when they were there (the work may go
   * ahead), else the milliseconds until they will be (nothing is spent then).
   */
  take(key: string, cost = 1): number {
    const bucket = this.#buckets.get(key, this.#now());
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
    const bucket = this.#buckets.get(key, this.#now());
    bucket.tokens -= cost;
    return bucket.tokens >= 0 ? 0 : Math.ceil((-bucket.tokens * 1000) / this.#limit.ratePerSecond);
  }

  /** Keys tracked now (tests: memory stays bounded). */
  get size(): number {
    return this.#buckets.size;
  }
}
