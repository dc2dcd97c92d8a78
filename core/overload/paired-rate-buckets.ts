/**
 * Two token buckets per key, refilled together (issue 15 "bytes/s, frames/s" per client: the
 * bytes and the messages one connection may send). One Map lookup and one refill serve both, so
 * a read budget with two limits per connection costs what one RateBuckets lookup does. Like
 * RateBuckets (rate-buckets.ts) a key starts full, and keys whose buckets are both full again are
 * forgotten in a sweep run only when the map has grown past a high-water mark (bucket-map.ts). Optionally a key
 * over budget for a while straight (a flood, not a burst) is demoted: its second bucket refills
 * at a lower rate until it is full again (SustainedOverload).
 */
import { BucketMap } from './bucket-map.js';
import type { RateLimit } from './rate-buckets.js';

interface PairedBucket {
  first: number;
  second: number;
  refilledAt: number;
  /** Epoch ms since when the key has been over budget without refilling halfway (0: not over). */
  overSince: number;
  /** Over budget for `sustained.afterMs` straight: the second bucket refills at `sustained.ratePerSecond` until it is full again. */
  demoted: boolean;
}

/**
 * A key over budget for `afterMs` without its second bucket refilling halfway meanwhile is no
 * burst but a flood: its second bucket then
 * refills at `ratePerSecond` (below the normal rate) until it is full again, i.e. until the key
 * has stayed below that rate long enough to save up a whole burst.
 */
export interface SustainedOverload {
  readonly afterMs: number;
  readonly ratePerSecond: number;
}

/** Which bucket of the pair the last non-zero wait of `charge` came from. */
export type PairSide = 'first' | 'second';

export class PairedRateBuckets {
  readonly #first: RateLimit;
  readonly #second: RateLimit;
  readonly #sustained: SustainedOverload | undefined;
  readonly #now: () => number;
  readonly #buckets: BucketMap<PairedBucket>;
  #lastWaitFrom: PairSide = 'first';

  constructor(first: RateLimit, second: RateLimit, now: () => number = Date.now, sustained?: SustainedOverload) {
    this.#first = first;
    this.#second = second;
    this.#sustained = sustained;
    this.#now = now;
    this.#buckets = new BucketMap<PairedBucket>({
      create: (at) => ({ first: first.burst, second: second.burst, refilledAt: at, overSince: 0, demoted: false }),
      refill: (bucket, at) => this.#refill(bucket, at),
      isFull: (bucket) => bucket.first >= first.burst && bucket.second >= second.burst && !bucket.demoted,
    });
  }

  /**
   * Spends `firstCost` and `secondCost` of `key`'s buckets even when they are not there (the work
   * already happened): a bucket may go into debt. Returns the milliseconds until both are out of
   * debt (0: neither is); `lastWaitFrom` then names the one that waits longer.
   */
  charge(key: string, firstCost: number, secondCost: number): number {
    const bucket = this.#buckets.get(key, this.#now());
    bucket.first -= firstCost;
    bucket.second -= secondCost;
    if (bucket.first >= 0 && bucket.second >= 0) {
      // The overload is over once the bucket has refilled halfway (as in core/contract/flood-guard.ts):
      // a flooder whose reads come a little late is within budget for a moment, yet never refills.
      if (bucket.overSince !== 0 && bucket.second >= this.#second.burst / 2) bucket.overSince = 0;
      return 0;
    }
    const sustained = this.#sustained;
    if (sustained !== undefined && !bucket.demoted) {
      const now = bucket.refilledAt;
      if (bucket.overSince === 0) bucket.overSince = now;
      else if (now - bucket.overSince >= sustained.afterMs) bucket.demoted = true;
    }
    const firstWait = bucket.first >= 0 ? 0 : Math.ceil((-bucket.first * 1000) / this.#first.ratePerSecond);
    const secondWait = bucket.second >= 0 ? 0 : Math.ceil((-bucket.second * 1000) / this.#secondRate(bucket));
    this.#lastWaitFrom = secondWait > firstWait ? 'second' : 'first';
    return Math.max(firstWait, secondWait);
  }

  /** Whether `key` is demoted for a sustained overload (tests, admin views). */
  demoted(key: string): boolean {
    return this.#buckets.peek(key)?.demoted === true;
  }

  /** The bucket behind the last non-zero wait `charge` returned. */
  get lastWaitFrom(): PairSide {
    return this.#lastWaitFrom;
  }

  /** Keys tracked now (tests: memory stays bounded). */
  get size(): number {
    return this.#buckets.size;
  }

  #refill(bucket: PairedBucket, now: number): void {
    const elapsedMs = now - bucket.refilledAt;
    if (elapsedMs <= 0) return;
    bucket.refilledAt = now;
    bucket.first = Math.min(this.#first.burst, bucket.first + (elapsedMs * this.#first.ratePerSecond) / 1000);
    bucket.second = Math.min(this.#second.burst, bucket.second + (elapsedMs * this.#secondRate(bucket)) / 1000);
    if (bucket.demoted && bucket.second >= this.#second.burst) {
      bucket.demoted = false;
      bucket.overSince = 0;
    }
  }

  #secondRate(bucket: PairedBucket): number {
    return bucket.demoted && this.#sustained !== undefined ? this.#sustained.ratePerSecond : this.#second.ratePerSecond;
  }
}
