/**
 * Media gateways as a pool behind ng (issue #15 "Several nodes"): a MediaControl that spreads
 * calls over several gateways (our `epcscf-media-gw` processes and/or rtpengine).
 *  - Sticky: an ng call's answer, re-offer, query and delete go to the gateway that took its
 *    first offer (remembered here; in a cluster also in the MediaLegDirectory's `gateway`).
 *  - By load: a new call goes to the up gateway with the fewest live calls per unit of weight
 *    (ties in turn), so equal gateways share calls evenly.
 *  - Health: every gateway is pinged every `intervalMs`; after `downAfterFailures` unanswered pings
 *    in a row, or an ng request that got no reply at all (NgNoReplyError), it is down: out of the
 *    pool, and the calls it carried are handed to `onGatewayDown` (the P-CSCF releases each
 *    session both ways, R-AGW-4; a call still in setup gets 503 and its branch a CANCEL:
 *    ../setup-release.ts). After `upAfterSuccesses` answered pings it rejoins; calls it
 *    carried when it went down are deleted on it then (a gateway cut off, not dead, still held them).
 * A new call's first offer that gets no reply is retried on the next gateway: the caller never
 * notices a gateway that died between two health checks.
 */
import type { Logger } from 'pino';
import { EpcError } from '../../errors.js';
import {
  NgNoReplyError,
  type NgAnswerRequest, type NgDeleteRequest, type NgOfferRequest, type NgQueryRequest, type NgQueryResult, type NgSdpResult,
} from '../../../media-gw/ng/index.js';
import type { ParsedSdp } from '../../../media-gw/sdp/index.js';
import type { MediaControl, MediaGatewayState } from './media-control.js';

/** A gateway's name in the pool and the MediaLegDirectory: `ng:host:port`. */
export function ngGatewayName(host: string, port: number): string {
  return `ng:${host}:${port}`;
}

export interface MediaPoolMember {
  /** `ng:host:port`: the name logs, the admin API and the MediaLegDirectory use. */
  readonly name: string;
  /** Share of new calls relative to the others (a gateway of weight 2 takes twice the calls). */
  readonly weight: number;
  readonly control: MediaControl;
}

export interface MediaPoolHealth {
  /** Ping each gateway this often; 0: no health checks (only a request without reply takes one out). */
  readonly intervalMs: number;
  readonly downAfterFailures: number;
  readonly upAfterSuccesses: number;
}

export interface MediaPoolOptions {
  readonly members: readonly MediaPoolMember[];
  readonly health: MediaPoolHealth;
  readonly log: Logger;
  /** A gateway went down with these calls on it: release each session (R-AGW-4). */
  readonly onGatewayDown?: (gateway: string, ngCallIds: readonly string[]) => void;
  readonly onGatewayUp?: (gateway: string) => void;
}

interface Slot {
  readonly member: MediaPoolMember;
  up: boolean;
  failures: number;
  successes: number;
  pinging: boolean;
  /** Live calls on this gateway (ng call-ids). */
  readonly calls: Set<string>;
  /** Calls it carried when it went down, deleted on it when it rejoins. */
  readonly lost: Set<string>;
}

export class MediaPool implements MediaControl {
  readonly #slots: Slot[];
  readonly #byName = new Map<string, Slot>();
  /** ng call-id → the gateway that took its first offer (stickiness). */
  readonly #sticky = new Map<string, Slot>();
  readonly #options: MediaPoolOptions;
  #timer: NodeJS.Timeout | undefined;
  #turn = 0;
  #closed = false;

  constructor(options: MediaPoolOptions) {
    if (options.members.length === 0) throw new EpcError('EPC_ERR_CONFIG_INVALID', 'media pool: no gateway');
    this.#options = options;
    this.#slots = options.members.map((member) => ({ member, up: true, failures: 0, successes: 0, pinging: false, calls: new Set(), lost: new Set() }));
    for (const slot of this.#slots) this.#byName.set(slot.member.name, slot);
    if (options.health.intervalMs > 0) {
      this.#timer = setInterval(() => void this.checkHealth(), options.health.intervalMs);
      this.#timer.unref();
    }
  }

  /** The gateways, their state and load. */
  gateways(): MediaGatewayState[] {
    return this.#slots.map((s) => ({ name: s.member.name, weight: s.member.weight, up: s.up, calls: s.calls.size }));
  }

  gatewayOf(ngCallId: string): string | undefined {
    return this.#sticky.get(ngCallId)?.member.name;
  }

  /** Up while one gateway is up (/ready). */
  async ping(): Promise<void> {
    this.#assertOpen('ping');
    if (this.#slots.some((s) => s.up)) return;
    throw new EpcError('EPC_ERR_MEDIA', `no media gateway up (${this.#slots.map((s) => s.member.name).join(', ')})`);
  }

  async offer(request: NgOfferRequest, parsed?: ParsedSdp): Promise<NgSdpResult> {
    this.#assertOpen('offer');
    const sticky = this.#sticky.get(request.callId);
    if (sticky !== undefined) return this.#send(sticky, 'offer', () => sticky.member.control.offer(request, parsed));
    // A new call: the least loaded gateway; one that does not answer is taken out and the next tried.
    const tried = new Set<Slot>();
    for (let slot = this.#choose(tried); slot !== undefined; slot = this.#choose(tried)) {
      tried.add(slot);
      const chosen = slot;
      try {
        const result = await this.#send(chosen, 'offer', () => chosen.member.control.offer(request, parsed));
        // Taken out while the offer was on its way: what it allocated goes when it rejoins; try the next.
        if (!chosen.up) { chosen.lost.add(request.callId); continue; }
        chosen.calls.add(request.callId);
        this.#sticky.set(request.callId, chosen);
        return result;
      } catch (error) {
        if (!(error instanceof NgNoReplyError)) throw error;
      }
    }
    throw new EpcError('EPC_ERR_MEDIA', `no media gateway up for ${request.callId}`);
  }

  async answer(request: NgAnswerRequest): Promise<NgSdpResult> {
    const slot = this.#stickyOf(request.callId, 'answer');
    return this.#send(slot, 'answer', () => slot.member.control.answer(request));
  }

  async query(request: NgQueryRequest): Promise<NgQueryResult> {
    const slot = this.#stickyOf(request.callId, 'query');
    return this.#send(slot, 'query', () => slot.member.control.query(request));
  }

  /**
   * Frees a call on its gateway and forgets it. A call on a gateway that is down is only forgotten
   * (it is deleted there if the gateway rejoins). An unknown call (the ALG may release what this
   * process never placed, e.g. after a restart) is deleted on every up gateway.
   */
  async delete(request: NgDeleteRequest): Promise<void> {
    this.#assertOpen('delete');
    const slot = this.#sticky.get(request.callId);
    if (slot === undefined) {
      const outcomes = await Promise.allSettled(this.#slots.filter((s) => s.up).map((s) => s.member.control.delete(request)));
      if (outcomes.some((o) => o.status === 'fulfilled')) return;
      throw new EpcError('EPC_ERR_MEDIA', `no media gateway knows ${request.callId}`);
    }
    this.#forget(request.callId, slot);
    if (!slot.up) return;
    await this.#send(slot, 'delete', () => slot.member.control.delete(request));
  }

  async deleteOn(gateway: string, request: NgDeleteRequest): Promise<void> {
    const slot = this.#byName.get(gateway);
    if (slot === undefined) throw new EpcError('EPC_ERR_MEDIA', `${gateway} is not in the media pool`);
    if (this.#sticky.get(request.callId) === slot) this.#forget(request.callId, slot);
    await slot.member.control.delete(request);
  }

  /** One round of health pings (the timer runs it; tests call it directly). */
  async checkHealth(): Promise<void> {
    if (this.#closed) return;
    await Promise.all(this.#slots.map((slot) => this.#probe(slot)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await Promise.all(this.#slots.map((s) => s.member.control.close()));
  }

  async #probe(slot: Slot): Promise<void> {
    if (slot.pinging) return; // the previous ping is still waiting for its reply
    slot.pinging = true;
    try {
      await slot.member.control.ping();
      slot.failures = 0;
      slot.successes++;
      if (!slot.up && slot.successes >= this.#options.health.upAfterSuccesses) this.#markUp(slot);
    } catch {
      slot.successes = 0;
      slot.failures++;
      if (slot.up && slot.failures >= this.#options.health.downAfterFailures) this.#markDown(slot, `${slot.failures} pings unanswered`);
    } finally {
      slot.pinging = false;
    }
  }

  /** The up gateway with the fewest calls per weight; among equals, each in turn. */
  #choose(tried: ReadonlySet<Slot>): Slot | undefined {
    let best: Slot | undefined;
    let bestLoad = Infinity;
    const count = this.#slots.length;
    const start = this.#turn++ % count;
    for (let i = 0; i < count; i++) {
      const slot = this.#slots[(start + i) % count] as Slot;
      if (!slot.up || tried.has(slot)) continue;
      const load = slot.calls.size / slot.member.weight;
      if (load < bestLoad) { best = slot; bestLoad = load; }
    }
    return best;
  }

  #stickyOf(callId: string, command: string): Slot {
    this.#assertOpen(command);
    const slot = this.#sticky.get(callId);
    if (slot === undefined) throw new EpcError('EPC_ERR_MEDIA', `media pool ${command}: no gateway holds ${callId}`);
    return slot;
  }

  /** A request to one gateway; no reply at all takes the gateway out of the pool. */
  async #send<T>(slot: Slot, command: string, run: () => Promise<T>): Promise<T> {
    if (!slot.up) throw new EpcError('EPC_ERR_MEDIA', `media gateway ${slot.member.name} is down (${command})`);
    try {
      return await run();
    } catch (error) {
      if (error instanceof NgNoReplyError && slot.up) this.#markDown(slot, `${command} got no reply`);
      throw error;
    }
  }

  #markDown(slot: Slot, why: string): void {
    slot.up = false;
    slot.successes = 0;
    // Still sticky to it: their release (delete) only forgets them, it sends nothing elsewhere.
    const calls = [...slot.calls];
    slot.calls.clear();
    for (const callId of calls) slot.lost.add(callId);
    this.#options.log.warn({ gateway: slot.member.name, why, calls: calls.length }, 'media gateway down: out of the pool, its calls released');
    this.#options.onGatewayDown?.(slot.member.name, calls);
  }

  #markUp(slot: Slot): void {
    slot.up = true;
    slot.failures = 0;
    const lost = [...slot.lost];
    slot.lost.clear();
    this.#options.log.warn({ gateway: slot.member.name, stale: lost.length }, 'media gateway up: back in the pool');
    // Calls released while it was away: whatever it still holds of them goes (unknown ids are refused, harmlessly).
    for (const callId of lost) {
      if (this.#sticky.get(callId) === slot) this.#sticky.delete(callId);
      void slot.member.control.delete({ callId }).catch(() => undefined);
    }
    this.#options.onGatewayUp?.(slot.member.name);
  }

  #forget(callId: string, slot: Slot): void {
    slot.calls.delete(callId);
    if (this.#sticky.get(callId) === slot) this.#sticky.delete(callId);
  }

  #assertOpen(command: string): void {
    if (this.#closed) throw new EpcError('EPC_ERR_MEDIA', `media pool closed (${command})`);
  }
}
