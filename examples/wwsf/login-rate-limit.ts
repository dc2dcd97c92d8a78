/**
 * The login endpoint is public: each client address gets `max` attempts per fixed window (good
 * and bad alike), then 429 with Retry-After until the window ends. Memory is bounded: windows
 * that ended are dropped, and past `maxTracked` addresses the oldest windows go first.
 */
export interface LoginRateLimitOptions {
  readonly max: number;
  readonly windowSeconds: number;
  /** Default 10 000 addresses. */
  readonly maxTracked?: number;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export class LoginRateLimit {
  readonly #windows = new Map<string, { startedAt: number; count: number }>();
  readonly #options: LoginRateLimitOptions;
  readonly #now: () => number;

  constructor(options: LoginRateLimitOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  attempt(address: string): RateDecision {
    const now = this.#now();
    const windowMs = this.#options.windowSeconds * 1000;
    let window = this.#windows.get(address);
    if (window === undefined || now - window.startedAt >= windowMs) {
      this.#windows.delete(address);
      this.#prune(now, windowMs);
      window = { startedAt: now, count: 0 };
      this.#windows.set(address, window);
    }
    window.count++;
    if (window.count <= this.#options.max) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.startedAt + windowMs - now) / 1000)) };
  }

  #prune(now: number, windowMs: number): void {
    const maxTracked = this.#options.maxTracked ?? 10_000;
    if (this.#windows.size < maxTracked) return;
    // Insertion order is start order: the first entries are the oldest windows.
    for (const [address, window] of this.#windows) {
      if (this.#windows.size >= maxTracked || now - window.startedAt >= windowMs) this.#windows.delete(address);
      else break;
    }
  }
}
