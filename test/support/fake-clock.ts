import type { Clock, TimerHandle } from '../../core/sip/clock.js';

interface PendingTimer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/**
 * A manual clock for tests: nothing fires until `advance(ms)`, which runs every timer that
 * falls due within the window in due-time order (ties in scheduling order), including timers
 * scheduled by the callbacks themselves. So "Timer A fires at 500, 1500, 3500" is checked
 * exactly and instantly.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, PendingTimer>();

  constructor(start = 0) {
    this.#now = start;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, due: this.#now + Math.max(0, ms), fn });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as unknown as number);
  }

  now(): number {
    return this.#now;
  }

  /** Timers scheduled and not yet fired or cleared (a closed layer must leave zero). */
  get pending(): number {
    return this.#timers.size;
  }

  /** Due times of the pending timers, relative to now, sorted. */
  pendingDelays(): number[] {
    return [...this.#timers.values()].map((t) => t.due - this.#now).sort((a, b) => a - b);
  }

  /** Move time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#earliestDue(end);
      if (!next) break;
      this.#timers.delete(next.id);
      this.#now = next.due;
      next.fn();
    }
    this.#now = end;
  }

  #earliestDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.#timers.values()) {
      if (t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }
}
