/**
 * The memory StateBackend (docs/structure-next.md §3, issue #15): one process, the default and
 * `npm start`. The two existing memory stores plus memory flow, node and media-leg directories
 * and namespaced TTL stores. Several Pcscf instances of one process (tests) may share one to act
 * as a cluster; across processes the Redis backend is the shared home.
 */
import { MemoryDialogStore } from './dialog-store.js';
import { memoryTtlNamespaces } from './memory-ttl-store.js';
import { MemoryRegistrationStore } from './registration-store.js';
import type {
  FlowDirectory, MediaLegDirectory, MediaLegRecord, NodeDirectory, NodeRecord, StateBackend, StateHealth, TtlStore,
} from './state-backend.js';

type Clock = () => number;

interface Expiring<T> {
  readonly value: T;
  readonly expiresAt: number;
}

export class MemoryFlowDirectory implements FlowDirectory {
  readonly #entries = new Map<string, Expiring<string>>();
  readonly #now: Clock;

  constructor(now: Clock = Date.now) {
    this.#now = now;
  }

  async claim(flowKey: string, nodeId: string, ttlMs: number): Promise<void> {
    this.#entries.set(flowKey, { value: nodeId, expiresAt: this.#now() + ttlMs });
  }

  async holder(flowKey: string): Promise<string | undefined> {
    return this.#live(flowKey);
  }

  async release(flowKey: string, nodeId: string): Promise<void> {
    if (this.#entries.get(flowKey)?.value === nodeId) this.#entries.delete(flowKey);
  }

  async heldBy(nodeId: string): Promise<string[]> {
    return [...this.#entries.keys()].filter((key) => this.#live(key) === nodeId);
  }

  /** Every node holding a live flow (the node directory's view of who may need a cleanup). */
  holders(): Set<string> {
    const out = new Set<string>();
    for (const key of [...this.#entries.keys()]) {
      const holder = this.#live(key);
      if (holder !== undefined) out.add(holder);
    }
    return out;
  }

  #live(flowKey: string): string | undefined {
    const entry = this.#entries.get(flowKey);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(flowKey);
      return undefined;
    }
    return entry.value;
  }
}

export class MemoryMediaLegDirectory implements MediaLegDirectory {
  readonly #legs = new Map<string, MediaLegRecord>();

  async put(leg: MediaLegRecord): Promise<void> {
    this.#legs.set(leg.ngCallId, leg);
  }

  async remove(ngCallId: string): Promise<void> {
    this.#legs.delete(ngCallId);
  }

  async byNode(nodeId: string): Promise<MediaLegRecord[]> {
    return [...this.#legs.values()].filter((leg) => leg.nodeId === nodeId);
  }

  async byGateway(gateway: string): Promise<MediaLegRecord[]> {
    return [...this.#legs.values()].filter((leg) => leg.gateway === gateway);
  }

  /** Every node owning a media leg. */
  owners(): Set<string> {
    return new Set([...this.#legs.values()].map((leg) => leg.nodeId));
  }
}

export class MemoryNodeDirectory implements NodeDirectory {
  readonly #nodes = new Map<string, Expiring<NodeRecord>>();
  readonly #cleanups = new Map<string, Expiring<string>>();
  readonly #now: Clock;
  /** Nodes holding flows or media legs: one without a live heartbeat is dead too. */
  readonly #holders: () => Iterable<string>;

  constructor(now: Clock = Date.now, holders: () => Iterable<string> = () => []) {
    this.#now = now;
    this.#holders = holders;
  }

  async heartbeat(node: NodeRecord, ttlMs: number): Promise<void> {
    this.#nodes.set(node.nodeId, { value: node, expiresAt: this.#now() + ttlMs });
  }

  async get(nodeId: string): Promise<NodeRecord | undefined> {
    const entry = this.#nodes.get(nodeId);
    return entry !== undefined && entry.expiresAt > this.#now() ? entry.value : undefined;
  }

  async live(): Promise<NodeRecord[]> {
    const now = this.#now();
    return [...this.#nodes.values()].filter((e) => e.expiresAt > now).map((e) => e.value);
  }

  async dead(): Promise<string[]> {
    const now = this.#now();
    const dead = new Set<string>();
    for (const [nodeId, entry] of this.#nodes) if (entry.expiresAt <= now) dead.add(nodeId);
    for (const nodeId of this.#holders()) {
      const entry = this.#nodes.get(nodeId);
      if (entry === undefined || entry.expiresAt <= now) dead.add(nodeId);
    }
    return [...dead];
  }

  async claimCleanup(deadNodeId: string, byNodeId: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const current = this.#cleanups.get(deadNodeId);
    // Like Redis SET NX PX: the first caller wins until the claim expires, itself included.
    if (current !== undefined && current.expiresAt > now) return false;
    this.#cleanups.set(deadNodeId, { value: byNodeId, expiresAt: now + ttlMs });
    return true;
  }

  async forget(nodeId: string): Promise<void> {
    this.#nodes.delete(nodeId);
    this.#cleanups.delete(nodeId);
  }
}

export interface MemoryStateBackendOptions {
  /** Epoch ms (tests use a fake clock). */
  readonly now?: Clock;
}

export class MemoryStateBackend implements StateBackend {
  readonly kind = 'memory' as const;
  readonly registrations: MemoryRegistrationStore;
  readonly dialogs = new MemoryDialogStore();
  readonly flows: MemoryFlowDirectory;
  readonly nodes: MemoryNodeDirectory;
  readonly mediaLegs = new MemoryMediaLegDirectory();
  readonly #namespaces: (name: string) => TtlStore;
  readonly #now: Clock;

  constructor(options: MemoryStateBackendOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.registrations = new MemoryRegistrationStore({ now: this.#now });
    this.flows = new MemoryFlowDirectory(this.#now);
    this.nodes = new MemoryNodeDirectory(this.#now, () => new Set([...this.flows.holders(), ...this.mediaLegs.owners()]));
    const now = this.#now;
    this.#namespaces = memoryTtlNamespaces({ now });
  }

  /** Helper 3's MemoryTtlStore (core/state/memory-ttl-store.ts), one per namespace. */
  namespace(name: string): TtlStore {
    return this.#namespaces(name);
  }

  health(): StateHealth {
    return { ok: true };
  }

  async close(): Promise<void> {
    // Nothing to release: the maps go with the process.
  }
}
