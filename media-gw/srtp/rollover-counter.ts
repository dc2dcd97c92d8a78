import { ReplayWindow } from './replay-window.js';

/**
 * Per-SSRC SRTP state (RFC 3711 §3.2.1): the rollover counter, the highest sequence number seen
 * (s_l) and the replay list.
 */
export class SrtpStreamState {
  roc = 0;
  highestSeq = -1;
  readonly replay: ReplayWindow;

  constructor(replayWindowSize: number) {
    this.replay = new ReplayWindow(replayWindowSize);
  }

  /**
   * RFC 3711 §3.3.1 / Appendix A: guess the ROC of a packet from its 16-bit sequence number and
   * s_l. Returns the guessed ROC (may be roc-1 for a late packet from before a wrap, or roc+1
   * right after one); -1 when the guess would be negative (a late packet before the first wrap
   * that cannot exist).
   */
  guessRoc(seq: number): number {
    if (this.highestSeq < 0) return this.roc;
    if (this.highestSeq < 0x8000) {
      return seq - this.highestSeq > 0x8000 ? this.roc - 1 : this.roc;
    }
    return this.highestSeq - 0x8000 > seq ? this.roc + 1 : this.roc;
  }

  /** RFC 3711 §3.3.1: after authentication, advance s_l and ROC when the packet is newer. */
  commit(seq: number, roc: number): void {
    if (this.highestSeq < 0 || roc > this.roc) {
      this.roc = roc;
      this.highestSeq = seq;
    } else if (roc === this.roc && seq > this.highestSeq) {
      this.highestSeq = seq;
    }
  }
}

/** A bounded SSRC → state table: a flood of random SSRCs must not grow memory without limit. */
export class StreamTable<T> {
  readonly #entries = new Map<number, T>();
  /** The last SSRC looked up: a call has one or two, so most packets skip the Map. */
  #lastSsrc = -1;
  #lastEntry: T | undefined;

  constructor(
    readonly limit: number,
    readonly create: () => T,
  ) {}

  get(ssrc: number): T | undefined {
    if (ssrc === this.#lastSsrc) return this.#lastEntry;
    let entry = this.#entries.get(ssrc);
    if (entry === undefined) {
      if (this.#entries.size >= this.limit) return undefined;
      entry = this.create();
      this.#entries.set(ssrc, entry);
    }
    this.#lastSsrc = ssrc;
    this.#lastEntry = entry;
    return entry;
  }

  get size(): number {
    return this.#entries.size;
  }
}
