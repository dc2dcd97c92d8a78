/**
 * The memory TtlStore (core/state/state-backend.ts): one process, the default and `npm start`.
 * Each key has its own TTL. Expiry is lazy (a read of an expired key finds nothing) plus a
 * bounded sweep: every write looks at a few more entries (SWEEP_PER_WRITE) from where the last
 * write stopped and drops the expired ones, so dead entries go without a timer and without a
 * full scan on any one call. Everything runs synchronously inside the call, so `take` is atomic
 * in this process: of two concurrent takes, exactly one gets the value.
 */
import type { TtlStore } from './state-backend.js';

/** The time source (a FakeClock in tests, the wall clock otherwise). */
export interface TtlClock {
  now(): number;
}

const wallClock: TtlClock = { now: () => Date.now() };

/** Entries looked at per write: more than one, so the sweep outpaces the writes that add entries. */
const SWEEP_PER_WRITE = 4;

interface Entry {
  readonly value: string;
  readonly expiresAt: number;
}

export class MemoryTtlStore implements TtlStore {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: TtlClock;
  /** Where the bounded sweep resumes (Map iterators survive deletions and see later insertions). */
  #sweep: IterableIterator<[string, Entry]> | undefined;

  constructor(clock: TtlClock = wallClock) {
    this.#clock = clock;
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.#live(key)?.value);
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    // A TTL of zero or less stores nothing (the key is already expired), as Redis PX refuses it.
    if (ttlMs > 0) this.#entries.set(key, { value, expiresAt: this.#clock.now() + ttlMs });
    else this.#entries.delete(key);
    this.#sweepSome();
    return Promise.resolve();
  }

  take(key: string): Promise<string | undefined> {
    const entry = this.#live(key);
    this.#entries.delete(key);
    return Promise.resolve(entry?.value);
  }

  delete(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }

  /** Keys not yet expired (O(n): for tests and admin views, not for the hot path). */
  get size(): number {
    const now = this.#clock.now();
    let live = 0;
    for (const entry of this.#entries.values()) if (entry.expiresAt > now) live += 1;
    return live;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#clock.now()) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  #sweepSome(): void {
    const now = this.#clock.now();
    for (let looked = 0; looked < SWEEP_PER_WRITE; looked += 1) {
      this.#sweep ??= this.#entries.entries();
      const next = this.#sweep.next();
      if (next.done === true) {
        this.#sweep = undefined;
        return;
      }
      const [key, entry] = next.value;
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
  }

  /** Entries held, expired or not (tests check the sweep with it). */
  get heldEntries(): number {
    return this.#entries.size;
  }
}

/**
 * A `namespace(name) => TtlStore` source of memory stores: the same name gives the same store,
 * two names never share a key. The plugin host's default (one source per server), and what
 * MemoryStateBackend.namespace() hands out.
 */
export function memoryTtlNamespaces(clock: TtlClock = wallClock): (name: string) => MemoryTtlStore {
  const stores = new Map<string, MemoryTtlStore>();
  return (name) => {
    let store = stores.get(name);
    if (store === undefined) {
      store = new MemoryTtlStore(clock);
      stores.set(name, store);
    }
    return store;
  };
}
