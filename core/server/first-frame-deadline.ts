/**
 * The first-frame deadline (issue 11 #5): a WebSocket that never sends a message after its
 * upgrade holds a descriptor and a session for nothing, so it is closed once
 * `w2.limits.firstFrameTimeoutSeconds` has passed. One timer per server, not per connection:
 * connections are kept in upgrade order (a Map keeps insertion order, and every connection has
 * the same deadline), so a sweep stops at the first one still in time.
 */
export interface FirstFrameTarget {
  /** Called once when the deadline passed without a message: the caller closes the session. */
  onFirstFrameTimeout(): void;
}

export class FirstFrameDeadline {
  readonly #timeoutMs: number;
  readonly #waiting = new Map<FirstFrameTarget, number>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;

  /** 0 disables the deadline. */
  constructor(timeoutMs: number, now: () => number = Date.now) {
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  /** A connection was upgraded: its clock starts. */
  add(target: FirstFrameTarget): void {
    if (this.#timeoutMs <= 0) return;
    this.#waiting.set(target, this.#now() + this.#timeoutMs);
    if (this.#timer === undefined) {
      // A quarter of the deadline (at most 1 s): a silent connection goes within 25% of it.
      this.#timer = setInterval(() => this.#sweep(), Math.min(1_000, Math.max(20, Math.floor(this.#timeoutMs / 4))));
      this.#timer.unref();
    }
  }

  /** The connection spoke (or ended): no deadline any more. */
  remove(target: FirstFrameTarget): void {
    if (this.#waiting.delete(target) && this.#waiting.size === 0) this.stop();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [target, deadline] of this.#waiting) {
      if (deadline > now) break;
      this.#waiting.delete(target);
      target.onFirstFrameTimeout();
    }
    if (this.#waiting.size === 0) this.stop();
  }
}
