import type { Clock, TimerHandle } from '../clock.js';

/**
 * The named timers of one transaction. Starting a timer that is running restarts it, and
 * `clearAll()` leaves no handle behind, so a terminated transaction can never fire late.
 */
export class TimerSet<Name extends string> {
  readonly #clock: Clock;
  readonly #running = new Map<Name, TimerHandle>();
  #disposed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  start(name: Name, ms: number, fire: () => void): void {
    // A terminated transaction may still be unwinding a send or a TU callback: never re-arm.
    if (this.#disposed) return;
    this.clear(name);
    const handle = this.#clock.setTimeout(() => {
      this.#running.delete(name);
      fire();
    }, ms);
    this.#running.set(name, handle);
  }

  clear(name: Name): void {
    const handle = this.#running.get(name);
    if (handle === undefined) return;
    this.#clock.clearTimeout(handle);
    this.#running.delete(name);
  }

  clearAll(): void {
    for (const handle of this.#running.values()) this.#clock.clearTimeout(handle);
    this.#running.clear();
  }

  /** Clear everything and refuse later starts (the transaction reached Terminated). */
  dispose(): void {
    this.#disposed = true;
    this.clearAll();
  }

  isRunning(name: Name): boolean {
    return this.#running.has(name);
  }
}
