/**
 * Read budgets of W2 sockets (issue 15 "Overload control": bytes/s and frames/s per connection,
 * frames/s per source IP). The plugins' flood guards count messages per session and cut a flooder
 * off; these sit under every plugin and never cut anyone off: a socket over budget is simply not
 * read until it is within budget again, so TCP slows the sender down (its kernel buffers fill,
 * its writes block) and the node spends nothing on it meanwhile. Clients behind one NAT share the
 * per-IP frame budget, which is sized for that.
 *
 * The frames/s per connection budget is what keeps a flooding client from moving the others'
 * latency: beyond its burst, a flooder's messages are handed to the plugin one per timer turn,
 * interleaved with everyone else's I/O, instead of a socket read's worth (a hundred messages and
 * more) back to back on the event loop (bench/overload). A connection over that budget for
 * `sustainedFlood.afterMs` straight is no client with a burst but a flood: it is then read at
 * `sustainedFlood.framesPerSecond` until it has stayed below that long enough to save up a whole
 * burst (core/overload/paired-rate-buckets.ts), so what a flooder costs the node is a trickle.
 *
 * One instance per server; the bucket maps forget idle keys (core/overload/*-buckets.ts). Per
 * message: two Map lookups (the connection's bytes+frames pair, the IP's frames).
 */
import type { RateLimitConfig, SustainedFloodConfig } from '../config/config-types.js';
import { PairedRateBuckets } from '../overload/paired-rate-buckets.js';
import { RateBuckets } from '../overload/rate-buckets.js';

export interface ReadThrottleLimits {
  readonly bytesPerConnection: RateLimitConfig;
  /** Omitted: no frame budget per connection (only bytes). */
  readonly framesPerConnection?: RateLimitConfig;
  /** A connection over its frame budget this long straight is read at a lower rate (omitted: never). */
  readonly sustainedFlood?: SustainedFloodConfig;
  readonly framesPerIp: RateLimitConfig;
}

export type ThrottleReason = 'bytes_rate' | 'frames_rate' | 'frames_per_ip';

const UNLIMITED: RateLimitConfig = { ratePerSecond: Number.POSITIVE_INFINITY, burst: Number.POSITIVE_INFINITY };

export class ReadThrottle {
  /** Per connection: first = bytes, second = frames. */
  readonly #connection: PairedRateBuckets;
  readonly #framesPerIp: RateBuckets;

  /** `maxFrameBytes`: the byte burst holds at least one whole message. */
  constructor(limits: ReadThrottleLimits, maxFrameBytes: number, now: () => number = Date.now) {
    const bytes = { ratePerSecond: limits.bytesPerConnection.ratePerSecond, burst: Math.max(limits.bytesPerConnection.burst, maxFrameBytes) };
    const sustained = limits.sustainedFlood !== undefined && limits.framesPerConnection !== undefined
      ? { afterMs: limits.sustainedFlood.afterMs, ratePerSecond: limits.sustainedFlood.framesPerSecond }
      : undefined;
    this.#connection = new PairedRateBuckets(bytes, limits.framesPerConnection ?? UNLIMITED, now, sustained);
    this.#framesPerIp = new RateBuckets(limits.framesPerIp, now);
  }

  /**
   * A message of `bytes` was read from connection `connectionId` at `ip` (it is delivered
   * anyway). Returns how long to stop reading that socket, and why; undefined when within budget.
   */
  charge(connectionId: string, ip: string, bytes: number): { pauseMs: number; reason: ThrottleReason } | undefined {
    const ipWait = this.#framesPerIp.charge(ip, 1);
    const connectionWait = this.#connection.charge(connectionId, bytes, 1);
    if (ipWait === 0 && connectionWait === 0) return undefined;
    if (ipWait > connectionWait) return { pauseMs: ipWait, reason: 'frames_per_ip' };
    return { pauseMs: connectionWait, reason: this.#connection.lastWaitFrom === 'first' ? 'bytes_rate' : 'frames_rate' };
  }
}
