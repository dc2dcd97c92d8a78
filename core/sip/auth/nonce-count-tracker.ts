/**
 * Replay protection for digest (RFC 7616 §3.4 / §5.5): remembers, per live nonce, which nonce
 * counts were already used. Requests that share a nonce may arrive out of order (a UA sends
 * several in parallel, UDP reorders), so like an IPsec anti-replay window a count is
 * accepted when it is new and not more than WINDOW below the highest one seen.
 * Memory is bounded: past the cap the oldest entries are dropped and every nonce issued no
 * later than them is from then on treated as stale, so forgetting never reopens a replay.
 */
const WINDOW = 32;

interface Entry {
  highest: number;
  /** Bit i set: count `highest - i` was used. */
  seen: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export class NonceCountTracker {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  #staleUpTo = Number.NEGATIVE_INFINITY;
  #sinceSweep = 0;

  constructor(maxEntries: number) {
    this.#max = Math.max(1, maxEntries);
  }

  /** True when this nonce's history may have been forgotten: the caller must answer stale. */
  forcedStale(issuedAt: number): boolean {
    return issuedAt <= this.#staleUpTo;
  }

  /**
   * Records `nc` for `nonce`; false when it was used before or is too far behind.
   * nc 0 stands for credentials without qop: such a nonce can be used once.
   */
  advance(nonce: string, nc: number, issuedAt: number, expiresAt: number, now: number): boolean {
    const entry = this.#entries.get(nonce);
    if (entry === undefined) {
      this.#entries.set(nonce, { highest: nc, seen: 1, issuedAt, expiresAt });
      this.#housekeep(now);
      return true;
    }
    if (nc === 0) return false;
    if (nc > entry.highest) {
      const shift = nc - entry.highest;
      entry.seen = shift >= WINDOW ? 1 : ((entry.seen << shift) | 1) >>> 0;
      entry.highest = nc;
      return true;
    }
    const offset = entry.highest - nc;
    if (offset >= WINDOW) return false;
    const bit = (1 << offset) >>> 0;
    if ((entry.seen & bit) !== 0) return false;
    entry.seen = (entry.seen | bit) >>> 0;
    return true;
  }

  get size(): number {
    return this.#entries.size;
  }

  #housekeep(now: number): void {
    if (++this.#sinceSweep >= 1024 || this.#entries.size > this.#max) {
      this.#sinceSweep = 0;
      for (const [nonce, entry] of this.#entries) if (entry.expiresAt < now) this.#entries.delete(nonce);
    }
    // Map order is first-use order: drop the oldest and fence off everything issued before it.
    for (const [nonce, entry] of this.#entries) {
      if (this.#entries.size <= this.#max) break;
      this.#entries.delete(nonce);
      this.#staleUpTo = Math.max(this.#staleUpTo, entry.issuedAt);
    }
  }
}
