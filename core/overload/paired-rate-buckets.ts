/**
 * Two token buckets per key, refilled together (issue 15 "bytes/s, frames/s" per client: the
 * bytes and the messages one connection may send). One Map lookup and one refill serve both, so
 * a read budget with two limits per connection costs what one RateBuckets lookup does. Like
 * RateBuckets (rate-buckets.ts) a key starts full, and keys whose buckets are both full again are
 * forgotten in a sweep run only when the map has grown past a high-water mark.
 */
import type { RateLimit } from './rate-buckets.js';

interface PairedBucket {
  first: number;
  second: number;
  refilledAt: number;
}

/** Which bucket of the pair the last non-zero wait of `charge` came from. */
export type PairSide = 'first' | 'second';

/** The first sweep runs at this many keys; the mark then follows the live size (×2). */
const FIRST_SWEEP_AT = 1024;

export class PairedRateBuckets {
  readonly #first: RateLimit;
  readonly #second: RateLimit;
  readonly #now: () => number;
  readonly #buckets = new Map<string, PairedBucket>();
  #sweepAt = FIRST_SWEEP_AT;
  #lastWaitFrom: PairSide = 'first';

  constructor(first: RateLimit, second: RateLimit, now: () => number = Date.now) {
    this.#first = first;
    this.#second = second;
    this.#now = now;
  }

  /**
   * Spends `firstCost` and `secondCost` of `key`'s buckets even when they are not there (the work
   * already happened): a bucket may go into debt. Returns the milliseconds until both are out of
   * debt (0: neither is); `lastWaitFrom` then names the one that waits longer.
   */
  charge(key: string, firstCost: number, secondCost: number): number {
    const bucket = this.#bucket(key);
    bucket.first -= firstCost;
    bucket.second -= secondCost;
    if (bucket.first >= 0 && bucket.second >= 0) return 0;
    const firstWait = bucket.first >= 0 ? 0 : Math.ceil((-bucket.first * 1000) / this.#first.ratePerSecond);
    const secondWait = bucket.second >= 0 ? 0 : Math.ceil((-bucket.second * 1000) / this.#second.ratePerSecond);
    this.#lastWaitFrom = secondWait > firstWait ? 'second' : 'first';
    return Math.max(firstWait, secondWait);
  }

  /** The bucket behind the last non-zero wait `charge` returned. */
  get lastWaitFrom(): PairSide {
    return this.#lastWaitFrom;
  }

  /** Keys tracked now (tests: memory stays bounded). */
  get size(): number {
    return this.#buckets.size;
  }

  #bucket(key: string): PairedBucket {
    const now = this.#now();
    const bucket = this.#buckets.get(key);
    if (bucket !== undefined) {
      this.#refill(bucket, now);
      return bucket;
    }
    if (this.#buckets.size >= this.#sweepAt) this.#sweep(now);
    const fresh = { first: this.#first.burst, second: this.#second.burst, refilledAt: now };
    this.#buckets.set(key, fresh);
    return fresh;
  }

  #refill(bucket: PairedBucket, now: number): void {
    const elapsedMs = now - bucket.refilledAt;
    if (elapsedMs <= 0) return;
    bucket.refilledAt = now;
    bucket.first = Math.min(this.#first.burst, bucket.first + (elapsedMs * this.#first.ratePerSecond) / 1000);
    bucket.second = Math.min(this.#second.burst, bucket.second + (elapsedMs * this.#second.ratePerSecond) / 1000);
  }

  /** Forgets every key whose two buckets are full again (it would be created full anyway). */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      this.#refill(bucket, now);
      if (bucket.first >= this.#first.burst && bucket.second >= this.#second.burst) this.#buckets.delete(key);
    }
    this.#sweepAt = Math.max(FIRST_SWEEP_AT, this.#buckets.size * 2);
  }
}
