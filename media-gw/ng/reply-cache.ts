/**
 * Retransmission handling for the ng server. rtpengine's ng docs: "the message cookie is used
 * to match requests to responses and to detect retransmissions". A client retransmits a
 * request unchanged (same cookie) when its reply is late or lost; executing an `offer` twice
 * would allocate a second set of ports, so a retransmission must get the first reply back:
 * while the request is still being handled, the retransmission waits for the same reply;
 * afterwards the stored reply is sent again.
 *
 * Entries are keyed by sender address and cookie (a cookie is only unique per client), live
 * `ttlMs` (rtpengine keeps its cookie cache for 30 s) and are bounded in number, the oldest
 * going first, so a flood of distinct cookies cannot grow memory without limit.
 */
export interface ReplyCacheOptions {
  /** How long a reply is kept for retransmissions. Default 30 s. */
  readonly ttlMs?: number;
  /** Most entries kept. Default 10 000. */
  readonly maxEntries?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

interface Entry {
  readonly expiresAt: number;
  readonly reply: Promise<Buffer>;
}

export class ReplyCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Insertion-ordered: the first entry is the oldest. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: ReplyCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The reply for `key`: the cached (or in-progress) one when the request was seen within the
   * TTL, otherwise `produce()`'s, which is cached. `fresh` tells whether `produce` ran.
   */
  reply(key: string, produce: () => Promise<Buffer>): { reply: Promise<Buffer>; fresh: boolean } {
    const now = this.#now();
    this.#evict(now);
    const cached = this.#entries.get(key);
    if (cached !== undefined) return { reply: cached.reply, fresh: false };
    const reply = produce();
    this.#entries.set(key, { expiresAt: now + this.#ttlMs, reply });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    return { reply, fresh: true };
  }

  clear(): void {
    this.#entries.clear();
  }

  #evict(now: number): void {
    // Entries are in insertion order with one TTL, so expired ones are at the front.
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(key);
    }
  }
}
