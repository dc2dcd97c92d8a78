/**
 * One home for shared state (docs/structure-next.md §3, issue #15): everything a P-CSCF node must
 * share with the other nodes of a cluster, or keep across its own restart, behind one interface
 * with two implementations: memory (one process, the default and `npm start`) and Redis (several
 * nodes; keys laid out so Redis Cluster works). The composition root builds it; the P-CSCF, the
 * IMS-ALG and the plugins (as `host.state`) use it. Every method is asynchronous; with Redis a call
 * rejects with EPC_ERR_STATE_UNAVAILABLE while Redis cannot be reached.
 */
import type { DialogStore } from './dialog-store.js';
import type { RegistrationStore } from './registration-store.js';

/**
 * The flow-location directory: which node holds the W2 connection of an RFC 5626 flow (`nodeId/n`,
 * as W2Flows writes flow keys). A terminating or in-dialog request that reaches a node that does
 * not hold the flow is forwarded to the holder; a survivor that adopts a dead node's flow claims it.
 */
export interface FlowDirectory {
  /** `nodeId` holds `flowKey` now (a new connection or an adoption); the entry lives `ttlMs` unless claimed again. */
  claim(flowKey: string, nodeId: string, ttlMs: number): Promise<void>;
  /** The node holding `flowKey`, or undefined when none does. */
  holder(flowKey: string): Promise<string | undefined>;
  /** Drops the entry, but only while `nodeId` still holds it (a later claim by another node wins). */
  release(flowKey: string, nodeId: string): Promise<void>;
  /** The flows `nodeId` holds (what a survivor cleans up after a dead node). */
  heldBy(nodeId: string): Promise<string[]>;
}

/** A live node as the others see it. */
export interface NodeRecord {
  readonly nodeId: string;
  /** Where other nodes send this node SIP meant for its flows: a SIP URI of its own Mw address. */
  readonly mwContact: string;
  /** Epoch ms of the node's start (a restarted node with the same id is a new incarnation). */
  readonly startedAt: number;
}

export interface NodeDirectory {
  /** `node` is alive for `ttlMs` more; a node that stops calling this is dead when it expires. */
  heartbeat(node: NodeRecord, ttlMs: number): Promise<void>;
  get(nodeId: string): Promise<NodeRecord | undefined>;
  /** Nodes whose heartbeat has not expired. */
  live(): Promise<NodeRecord[]>;
  /** Nodes that held flows or media legs and whose heartbeat expired (SIGKILL, crash, partition). */
  dead(): Promise<string[]>;
  /**
   * True for exactly one caller per dead node within `ttlMs`: the survivor that releases the dead
   * node's calls (BYE toward the IMS) and frees its media legs. Others see false.
   */
  claimCleanup(deadNodeId: string, byNodeId: string, ttlMs: number): Promise<boolean>;
  /** A node left for good (SIGTERM done, or its cleanup finished): forget it. */
  forget(nodeId: string): Promise<void>;
}

/** A media leg (one call's media on one gateway) and who owns it. */
export interface MediaLegRecord {
  /** The ng call-id the IMS-ALG gave the gateway. */
  readonly ngCallId: string;
  /** The node whose IMS-ALG opened it. */
  readonly nodeId: string;
  /** Which gateway of the pool carries it (its ng address, or `in-process`). */
  readonly gateway: string;
  readonly createdAt: number;
}

export interface MediaLegDirectory {
  put(leg: MediaLegRecord): Promise<void>;
  remove(ngCallId: string): Promise<void>;
  byNode(nodeId: string): Promise<MediaLegRecord[]>;
  byGateway(gateway: string): Promise<MediaLegRecord[]>;
}

/**
 * A namespaced key/value store with a TTL per key, offered to plugins as `host.state` (resume
 * tokens, XEP-0198 stream state). Values are strings (the plugin's own JSON). Never store a
 * password in clear: encrypt it under a key only the client holds (e.g. derived from its token).
 */
export interface TtlStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Reads and deletes in one step: of two concurrent takes, one gets the value (single-use tokens). */
  take(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
}

export type StateHealth = { readonly ok: true } | { readonly ok: false; readonly detail: string };

export interface StateBackend {
  readonly kind: 'memory' | 'redis';
  readonly registrations: RegistrationStore;
  readonly dialogs: DialogStore;
  readonly flows: FlowDirectory;
  readonly nodes: NodeDirectory;
  readonly mediaLegs: MediaLegDirectory;
  /** The TTL store of one namespace (a plugin's name): keys of two namespaces never collide. */
  namespace(name: string): TtlStore;
  /** For /ready: memory is always ok; Redis is ok while its connection is up. */
  health(): StateHealth;
  /** Idempotent. */
  close(): Promise<void>;
}
