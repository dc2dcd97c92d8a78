/**
 * Which masters of a Redis Cluster answer, for `health()` (/ready): the cluster client stays
 * "ready" while one master is gone (the others serve their slots), so readiness asks every
 * master that owns slots. A probe is one EXISTS on a key hashed into one of that master's slots,
 * routed like any command (so it proves what a request would meet: a refused connection,
 * CLUSTERDOWN, a timeout). A master is down from its first failure (a probe, or a connection
 * error ioredis reports for it) until a probe answers again; while any is down the probes repeat
 * every `recoveryEveryMs`, so readiness comes back by itself.
 */
import type { Cluster } from 'ioredis';
import { keySlot, slotOwners } from './key-slot.js';

export interface MasterReachabilityOptions {
  /** The key prefix (probe keys carry it, so several deployments never meet). */
  readonly keyPrefix: string;
  /** Between probes while every master answers; 0: only on trouble. */
  readonly everyMs: number;
  /** Between probes while a master is down. */
  readonly recoveryEveryMs: number;
  /** Called when the set of down masters changes. */
  readonly onChange: () => void;
  /** Called after a probe round every master answered (Redis serves again: a past timeout is over). */
  readonly onAllAnswered: () => void;
}

export class MasterReachability {
  readonly #cluster: Cluster;
  readonly #options: MasterReachabilityOptions;
  /** node key (host:port) → why it is down. */
  readonly #down = new Map<string, string>();
  /** node key → a hash tag whose slot that master owned when last looked up. */
  readonly #probeTags = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(cluster: Cluster, options: MasterReachabilityOptions) {
    this.#cluster = cluster;
    this.#options = options;
    this.#schedule();
  }

  /** Masters (node keys) that did not answer, with the reason. */
  down(): ReadonlyMap<string, string> {
    return this.#down;
  }

  /** A master's connection failed (ioredis "node error"): down now, probed again soon. */
  markDown(nodeKey: string, reason: string): void {
    if (this.#closed || !this.#owners().has(nodeKey)) return;
    this.#set(nodeKey, reason);
  }

  /** Probes every master that owns slots, once (a probe already running is joined). */
  probe(): Promise<void> {
    this.#running ??= this.#probeAll().finally(() => {
      this.#running = undefined;
      this.#schedule();
    });
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #probeAll(): Promise<void> {
    const owners = this.#owners();
    for (const key of this.#down.keys()) {
      if (!owners.has(key)) this.#clear(key); // no longer owns slots (resharded, failed over)
    }
    await Promise.all([...owners].map(async (owner) => {
      try {
        await this.#cluster.exists(`${this.#options.keyPrefix}{${this.#probeTag(owner)}}:probe`);
        this.#clear(owner);
      } catch (error) {
        this.#set(owner, (error as Error).message);
      }
    }));
    if (this.#down.size === 0 && owners.size > 0) this.#options.onAllAnswered();
  }

  #owners(): Set<string> {
    return slotOwners(this.#cluster);
  }


  /** A hash tag in one of `owner`'s slots (found by trying `probe-0`, `probe-1`...: ~N tries for N masters). */
  #probeTag(owner: string): string {
    const slots = this.#cluster.slots;
    const known = this.#probeTags.get(owner);
    if (known !== undefined && slots[keySlot(`{${known}}`)]?.[0] === owner) return known;
    for (let i = 0; i < 100_000; i++) {
      const tag = `probe-${i}`;
      if (slots[keySlot(`{${tag}}`)]?.[0] === owner) {
        this.#probeTags.set(owner, tag);
        return tag;
      }
    }
    return 'probe'; // unreachable for a master owning any slot; the probe then tests whoever owns this one
  }

  #set(key: string, reason: string): void {
    const changed = this.#down.get(key) !== reason;
    const wasUp = !this.#down.has(key);
    this.#down.set(key, reason);
    if (wasUp) this.#schedule();
    if (changed) this.#options.onChange();
  }

  #clear(key: string): void {
    if (this.#down.delete(key)) this.#options.onChange();
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running) return; // re-scheduled when the running probe ends
    const every = this.#down.size > 0 ? this.#options.recoveryEveryMs : this.#options.everyMs;
    if (every <= 0) return;
    this.#timer = setTimeout(() => void this.probe(), every);
    this.#timer.unref();
  }
}
