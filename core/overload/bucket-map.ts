/**
 * The map under RateBuckets and PairedRateBuckets: one bucket per key (a flow, a source IP, a
 * connection), refilled on each lookup and created full on first use. Memory stays bounded by
 * the keys active lately: once the map has grown past a high-water mark, a sweep refills every
 * bucket and forgets the full ones (they would be created full anyway); the mark then follows the
 * live size (×2). No timer; one Map lookup per call between sweeps.
 */
export interface BucketKind<B> {
  /** A full bucket for a new key, as of `now`. */
  create(now: number): B;
  /** Brings `bucket` up to `now`. */
  refill(bucket: B, now: number): void;
  /** Full again, and so forgettable. */
  isFull(bucket: B): boolean;
}

/** The first sweep runs at this many keys. */
const FIRST_SWEEP_AT = 1024;

export class BucketMap<B> {
  readonly #kind: BucketKind<B>;
  readonly #buckets = new Map<string, B>();
  #sweepAt = FIRST_SWEEP_AT;

  constructor(kind: BucketKind<B>) {
    this.#kind = kind;
  }

  /** `key`'s bucket refilled up to `now`; a new key's starts full (idle keys are swept first). */
  get(key: string, now: number): B {
    const bucket = this.#buckets.get(key);
    if (bucket !== undefined) {
      this.#kind.refill(bucket, now);
      return bucket;
    }
    if (this.#buckets.size >= this.#sweepAt) this.#sweep(now);
    const fresh = this.#kind.create(now);
    this.#buckets.set(key, fresh);
    return fresh;
  }

  /** The bucket of `key` as it is (no refill, no creation). */
  peek(key: string): B | undefined {
    return this.#buckets.get(key);
  }

  /** Keys tracked now (tests: memory stays bounded). */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      this.#kind.refill(bucket, now);
      if (this.#kind.isFull(bucket)) this.#buckets.delete(key);
    }
    this.#sweepAt = Math.max(FIRST_SWEEP_AT, this.#buckets.size * 2);
  }
}
