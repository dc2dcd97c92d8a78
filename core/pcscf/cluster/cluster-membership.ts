/**
 * This node as a member of an epcscf cluster (issue #15 "Several nodes", "Faults"): it claims each
 * W2 flow it holds in the shared FlowDirectory, heartbeats its NodeRecord (its own Mw contact, where
 * the others forward SIP meant for its flows), and watches for dead nodes: one survivor wins the
 * cleanup of each and releases the dead node's calls toward the IMS (BYE built from the stored
 * DialogRecord) and its media legs. Only the holder of a flow renews its claim.
 *
 * Two guards against time passing without heartbeats (heartbeat-continuity.ts, self-fence.ts):
 * a node sweeps only after a death period of its own unbroken heartbeats (a state-backend stall
 * let every record expire: no mutual cleanup), and a node whose own record may have lapsed learns
 * whether it was cleaned up before it heartbeats again: if so it fences itself (`onFenced`: its
 * W2 sessions are closed) and re-joins as a new incarnation.
 *
 * Nothing here runs per SIP message: claims are per flow, the rest per heartbeat.
 */
import type { Logger } from 'pino';
import type { DialogRecord } from '../../state/dialog-store.js';
import type { MediaLegRecord, NodeRecord, StateBackend } from '../../state/state-backend.js';
import { keepForAdoption } from './flow-adoption.js';
import { HeartbeatContinuity } from './heartbeat-continuity.js';
import { ownRecordVerdict } from './self-fence.js';

/** A node silent for this many beats is dead (SIGKILL, crash, partition). */
export const BEATS_TO_DEATH = 3;
/** A flow claim lives this long unless renewed; the holder renews it at half-life. */
export const FLOW_CLAIM_TTL_MS = 10 * 60_000;
/** How long a survivor's cleanup claim lasts before another survivor may take over. */
const CLEANUP_CLAIM_TTL_MS = 60_000;

export interface ClusterMembershipOptions {
  readonly state: StateBackend;
  readonly nodeId: string;
  /** Where other nodes send SIP meant for this node's flows: a SIP URI of its own Mw address. */
  readonly mwContact: string;
  readonly heartbeatMs: number;
  /**
   * cluster.adoptGraceSeconds in ms: how long a dead or leaving node's virtual-UE bindings stay
   * for a client to adopt on another node (flow-adoption.ts). 0: dropped with the node.
   */
  readonly adoptGraceMs: number;
  readonly log: Logger;
  readonly now?: () => number;
  /** Sends BYE toward the IMS for a confirmed dialog a dead node held; resolves on any outcome. */
  readonly releaseDialog: (dialog: DialogRecord, deadNodeId: string) => Promise<void>;
  /** Frees a dead node's media leg where this node can (a shared gateway); resolves on any outcome. */
  readonly releaseMediaLeg: (leg: MediaLegRecord) => Promise<void>;
}

/** What a survivor released for one dead node (logs, tests). */
export interface DeadNodeCleanup {
  readonly nodeId: string;
  readonly flows: number;
  readonly byes: number;
  readonly mediaLegs: number;
}

/** This node found it had been cleaned up by a survivor while it was stalled (logs, tests). */
export interface SelfFence {
  readonly nodeId: string;
  /** The W2 flows it held then: their clients must reconnect to a live node. */
  readonly flows: readonly string[];
}

export class ClusterMembership {
  readonly #options: ClusterMembershipOptions;
  readonly #now: () => number;
  #record: NodeRecord;
  readonly #deathPeriodMs: number;
  readonly #continuity: HeartbeatContinuity;
  /** Flows this node held when it fenced itself: released as handed over, never claimed again. */
  readonly #fenced = new Set<string>();
  /** Flows this node holds and when it last claimed each. */
  readonly #claimed = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #closed = false;
  #leaving = false;
  /** Observers (tests, logs): a dead node was cleaned up by this node. */
  onCleanup: ((cleanup: DeadNodeCleanup) => void) | undefined;
  /**
   * The composition root closes every W2 session of this node here (1001, as on SIGTERM) when a
   * survivor cleaned it up while it was stalled: the clients reconnect to a live node.
   */
  onFenced: ((fence: SelfFence) => void) | undefined;

  constructor(options: ClusterMembershipOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#record = { nodeId: options.nodeId, mwContact: options.mwContact, startedAt: this.#now() };
    this.#deathPeriodMs = options.heartbeatMs * BEATS_TO_DEATH;
    this.#continuity = new HeartbeatContinuity(this.#deathPeriodMs);
  }

  get nodeId(): string {
    return this.#options.nodeId;
  }

  /**
   * Joins: a previous incarnation of this node id (a restart faster than its death was noticed)
   * left flows and calls nobody holds any more: they are released first, then the heartbeat starts.
   */
  async start(): Promise<void> {
    await this.#cleanup(this.#options.nodeId).catch((error: unknown) => this.#options.log.warn({ err: error }, 'cleaning up a previous incarnation failed'));
    await this.#heartbeat(); // the sweep waits a death period from here (heartbeat-continuity.ts)
    this.#timer = setInterval(() => void this.tick(), this.#options.heartbeatMs);
    this.#timer.unref();
  }

  /**
   * One beat: (after a possible lapse of its own record: fence if cleaned up) heartbeat, renew
   * half-expired flow claims, clean up dead nodes once its own heartbeats held a death period.
   * Never rejects.
   */
  tick(): Promise<void> {
    this.#tick ??= (async () => {
      try {
        if (this.#continuity.mayHaveLapsed(this.#now())) await this.#checkOwnRecord();
        await this.#heartbeat();
        await this.#renewClaims();
        if (this.#continuity.sweepAllowed(this.#now())) await this.#sweepDead();
      } catch (error) {
        this.#options.log.warn({ err: error }, 'cluster heartbeat failed');
      } finally {
        this.#tick = undefined;
      }
    })();
    return this.#tick;
  }

  /** This node holds a new flow (a W2 session opened). */
  flowOpened(flowKey: string): void {
    this.#claimed.set(flowKey, this.#now());
    this.#options.state.flows.claim(flowKey, this.#options.nodeId, FLOW_CLAIM_TTL_MS)
      .catch((error: unknown) => this.#options.log.warn({ err: error, flowKey }, 'claiming a flow in the directory failed'));
  }

  /** This node took over another node's flow (flow-adoption.ts): it holds and renews the claim now. */
  async flowAdopted(flowKey: string): Promise<void> {
    this.#claimed.set(flowKey, this.#now());
    await this.#options.state.flows.claim(flowKey, this.#options.nodeId, FLOW_CLAIM_TTL_MS);
  }

  /**
   * SIGTERM (issue #15 "Graceful restart"): this node is leaving the cluster. From now on the
   * flows it releases keep their virtual-UE bindings for the adopt grace, not de-registered, so
   * their clients resume on another node with no REGISTER on Mw.
   */
  leave(): void {
    this.#leaving = true;
  }

  /**
   * True when releasing `flowKey` keeps its virtual-UE bindings for the adopt grace: this node is
   * leaving (`leave()`), or it held the flow when it fenced itself (the survivor that cleaned it
   * up kept them for adoption already), and the grace is on.
   */
  handsOver(flowKey: string): boolean {
    return (this.#leaving || this.#fenced.has(flowKey)) && this.#options.adoptGraceMs > 0;
  }

  get adoptGraceMs(): number {
    return this.#options.adoptGraceMs;
  }

  /** The flow ended here: its entry goes (unless another node claimed it since). */
  flowClosed(flowKey: string): Promise<void> {
    this.#claimed.delete(flowKey);
    this.#fenced.delete(flowKey);
    return this.#options.state.flows.release(flowKey, this.#options.nodeId)
      .catch((error: unknown) => this.#options.log.warn({ err: error, flowKey }, 'releasing a flow in the directory failed'));
  }

  /**
   * The Mw contact of the live node holding `flowKey`, when it is another node. Undefined when
   * this node holds it, nobody does, or its holder is dead (RFC 5626 §5.3: the caller answers 430/480).
   */
  async holderContact(flowKey: string): Promise<string | undefined> {
    const holder = await this.#options.state.flows.holder(flowKey);
    if (holder === undefined || holder === this.#options.nodeId) return undefined;
    return (await this.#options.state.nodes.get(holder))?.mwContact;
  }

  /** Leaves for good (SIGTERM, after the node released its own flows): the others forget it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#tick;
    await this.#options.state.nodes.forget(this.#options.nodeId).catch(() => undefined);
  }

  async #heartbeat(): Promise<void> {
    const sentAt = this.#now();
    try {
      await this.#options.state.nodes.heartbeat(this.#record, this.#deathPeriodMs);
    } catch (error) {
      this.#continuity.failed();
      throw error;
    }
    this.#continuity.succeeded(sentAt, this.#now());
  }

  /**
   * This node's record may have lapsed (it was frozen, or lost the state backend, for a death
   * period): before it heartbeats again, did a survivor clean it up (self-fence.ts)? If so its
   * calls are gone at the IMS: it fences itself, its W2 sessions are closed so the clients come
   * back through the load balancer to a live node, and it re-joins as a new incarnation. If not
   * (nobody noticed, e.g. every node lost Redis), it carries on.
   */
  async #checkOwnRecord(): Promise<void> {
    const { log, nodeId } = this.#options;
    const verdict = await ownRecordVerdict(this.#options.state.nodes, nodeId, this.#deathPeriodMs);
    if (verdict === 'live') return;
    if (verdict === 'lapsed-unnoticed') {
      log.warn({ nodeId }, 'this node\'s cluster heartbeat lapsed (stalled, or the state backend was unreachable) but no survivor cleaned it up: carrying on');
      return;
    }
    const flows = [...this.#claimed.keys()];
    for (const flowKey of flows) {
      this.#fenced.add(flowKey);
      this.#claimed.delete(flowKey); // the survivor released them: never renewed from here
    }
    log.warn({ nodeId, flows: flows.length }, 'this node stalled past its death period and a survivor cleaned it up (its calls were released at the IMS): fencing itself, closing its W2 sessions so clients reconnect to a live node, then re-joining');
    this.#record = { ...this.#record, startedAt: this.#now() };
    this.onFenced?.({ nodeId, flows });
  }

  async #renewClaims(): Promise<void> {
    const due = this.#now() - FLOW_CLAIM_TTL_MS / 2;
    for (const [flowKey, claimedAt] of this.#claimed) {
      if (claimedAt > due) continue;
      this.#claimed.set(flowKey, this.#now());
      await this.#options.state.flows.claim(flowKey, this.#options.nodeId, FLOW_CLAIM_TTL_MS);
    }
  }

  async #sweepDead(): Promise<void> {
    for (const dead of await this.#options.state.nodes.dead()) {
      if (dead === this.#options.nodeId || this.#closed) continue; // our own record lapsed (a stall): the beat just renewed it
      if (!(await this.#options.state.nodes.claimCleanup(dead, this.#options.nodeId, CLEANUP_CLAIM_TTL_MS))) continue;
      this.#options.log.warn({ deadNode: dead }, 'a cluster node stopped heartbeating: releasing its calls and media legs');
      const cleanup = await this.#cleanup(dead);
      // A node that woke meanwhile lost this claim to us, fenced itself and re-joined: keep its new record.
      if (await this.#options.state.nodes.get(dead) === undefined) await this.#options.state.nodes.forget(dead);
      this.#options.log.info(cleanup, 'dead node cleaned up');
      this.onCleanup?.(cleanup);
    }
  }

  /**
   * Releases what `nodeId` held: each confirmed INVITE dialog gets a BYE toward the IMS (the far
   * end would otherwise wait for a session timer), every dialog and binding of its flows goes
   * (terminating requests then get 430/480, RFC 5626 §5.3), and its media legs are freed. The
   * virtual UE's bindings of another node stay for the adopt grace (flow-adoption.ts): their
   * clients may resume here or elsewhere with no REGISTER. A previous incarnation of this very
   * node loses them too: its new flows reuse the same keys.
   */
  async #cleanup(nodeId: string): Promise<DeadNodeCleanup> {
    const { state } = this.#options;
    const prefix = `${nodeId}/`;
    const flowKeys = new Set(await state.flows.heldBy(nodeId));
    const dialogs = (await state.dialogs.all()).filter((d) => d.flowKey.startsWith(prefix));
    for (const d of dialogs) flowKeys.add(d.flowKey);
    const byes: Promise<void>[] = [];
    for (const dialog of dialogs) {
      await state.dialogs.remove(dialog.id);
      // R-ORIG-9: as when a flow dies on a live node, only confirmed INVITE dialogs get a BYE.
      if (dialog.state === 'confirmed' && dialog.method === 'INVITE' && dialog.remoteTarget !== '') byes.push(this.#options.releaseDialog(dialog, nodeId));
    }
    const graceMs = nodeId === this.#options.nodeId ? 0 : this.#options.adoptGraceMs;
    for (const flowKey of flowKeys) {
      await keepForAdoption(state.registrations, flowKey, graceMs, this.#now());
      await state.flows.release(flowKey, nodeId);
    }
    const legs = await state.mediaLegs.byNode(nodeId);
    for (const leg of legs) {
      await this.#options.releaseMediaLeg(leg);
      await state.mediaLegs.remove(leg.ngCallId);
    }
    await Promise.all(byes);
    return { nodeId, flows: flowKeys.size, byes: byes.length, mediaLegs: legs.length };
  }
}
