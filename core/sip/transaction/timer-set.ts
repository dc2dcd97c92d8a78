import type { Clock, TimerHandle } from '../clock.js';

/**
 * The named timers of one transaction. Starting a timer that is running restarts it, and
 * `clearAll()` leaves no handle behind, so a terminated transaction can never fire late.
 *
 * A transaction runs at most three timers, so they live in two short arrays rather than a Map:
 * every transaction has a TimerSet, and a Map per transaction costs the GC on every message.
 */
export class TimerSet<Name extends string> {
  readonly #clock: Clock;
  readonly #names: Name[] = [];
  readonly #handles: TimerHandle[] = [];
  #disposed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  start(name: Name, ms: number, fire: () => void): void {
    // A terminated transaction may still be unwinding a send or a TU callback: never re-arm.
    if (this.#disposed) return;
    this.clear(name);
    const handle = this.#clock.setTimeout(() => {
      this.#forget(name);
      fire();
    }, ms);
    this.#names.push(name);
    this.#handles.push(handle);
  }

  clear(name: Name): void {
    const at = this.#names.indexOf(name);
    if (at < 0) return;
    this.#clock.clearTimeout(this.#handles[at] as TimerHandle);
    this.#names.splice(at, 1);
    this.#handles.splice(at, 1);
  }

  clearAll(): void {
    for (const handle of this.#handles) this.#clock.clearTimeout(handle);
    this.#names.length = 0;
    this.#handles.length = 0;
  }

  /** Clear everything and refuse later starts (the transaction reached Terminated). */
  dispose(): void {
    this.#disposed = true;
    this.clearAll();
  }

  isRunning(name: Name): boolean {
    return this.#names.includes(name);
  }

  #forget(name: Name): void {
    const at = this.#names.indexOf(name);
    if (at < 0) return;
    this.#names.splice(at, 1);
    this.#handles.splice(at, 1);
  }
}
