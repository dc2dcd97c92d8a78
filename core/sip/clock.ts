/**
 * Time source for every SIP timer (RFC 3261 §17 Timers A–M, registration refresh, ...).
 * Code takes a `Clock` instead of calling the globals, so tests drive time with a fake clock
 * (test/support/fake-clock.ts) and never wait for real.
 */

declare const timerHandleBrand: unique symbol;

/** An opaque handle returned by `Clock.setTimeout`; only its own clock understands it. */
export interface TimerHandle {
  readonly [timerHandleBrand]: true;
}

export interface Clock {
  /** Run `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer; clearing a timer that already fired or was cleared is a no-op. */
  clearTimeout(handle: TimerHandle): void;
  /** Milliseconds since the epoch (or since the fake clock started). */
  now(): number;
}

/**
 * The real clock. Timers are `unref()`ed: a pending retransmission or Timer D must never
 * keep the process alive on its own (the owning transport does that while it listens).
 */
export const systemClock: Clock = {
  setTimeout(fn, ms) {
    const timer = globalThis.setTimeout(fn, ms);
    timer.unref();
    return timer as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as unknown as NodeJS.Timeout);
  },
  now() {
    return Date.now();
  },
};
