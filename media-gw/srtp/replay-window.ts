/**
 * RFC 3711 §3.3.2: a sliding replay list. An index is accepted once; indices older than the window
 * (below highest - size + 1) are rejected. The window is a byte ring so that 48-bit SRTP indices
 * (exact in a double) need no BigInt. Default size 128 (the RFC's minimum is 64).
 */
export class ReplayWindow {
  readonly #seen: Uint8Array;
  #highest = -1;

  constructor(readonly size = 128) {
    this.#seen = new Uint8Array(size);
  }

  get highest(): number {
    return this.#highest;
  }

  /** True when `index` has not been seen and is not too old. Does not record it. */
  check(index: number): boolean {
    if (index > this.#highest) return true;
    if (this.#highest - index >= this.size) return false;
    return this.#seen[index % this.size] === 0;
  }

  /** Records an authenticated index (RFC 3711 §3.3: update only after authentication). */
  accept(index: number): void {
    if (index > this.#highest) {
      const advance = this.#highest < 0 ? this.size : Math.min(index - this.#highest, this.size);
      for (let i = 1; i <= advance; i++) this.#seen[(index - advance + i) % this.size] = 0;
      this.#highest = index;
    }
    this.#seen[index % this.size] = 1;
  }
}
