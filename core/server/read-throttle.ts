/**
 * Read budgets of W2 sockets (issue 15 "Overload control": bytes/s per connection, frames/s per
 * source IP). The plugins' flood guards count messages per session and cut a flooder off; these
 * two sit under every plugin and never cut anyone off: a socket over budget is simply not read
 * until it is within budget again, so TCP slows the sender down (its kernel buffers fill, its
 * writes block) and the node spends nothing on it meanwhile. Clients behind one NAT share the
 * per-IP frame budget, which is sized for that.
 *
 * One instance per server; the bucket maps forget idle keys (core/overload/rate-buckets.ts).
 */
import type { RateLimitConfig } from '../config/config-types.js';
import { RateBuckets } from '../overload/rate-buckets.js';

export interface ReadThrottleLimits {
  readonly bytesPerConnection: RateLimitConfig;
  readonly framesPerIp: RateLimitConfig;
}

export type ThrottleReason = 'bytes_rate' | 'frames_per_ip';

export class ReadThrottle {
  readonly #bytes: RateBuckets;
  readonly #frames: RateBuckets;

  /** `maxFrameBytes`: the byte burst holds at least one whole message. */
  constructor(limits: ReadThrottleLimits, maxFrameBytes: number, now: () => number = Date.now) {
    this.#bytes = new RateBuckets({ ratePerSecond: limits.bytesPerConnection.ratePerSecond, burst: Math.max(limits.bytesPerConnection.burst, maxFrameBytes) }, now);
    this.#frames = new RateBuckets(limits.framesPerIp, now);
  }

  /**
   * A message of `bytes` was read from connection `connectionId` at `ip` (it is delivered
   * anyway). Returns how long to stop reading that socket, and why; undefined when within budget.
   */
  charge(connectionId: string, ip: string, bytes: number): { pauseMs: number; reason: ThrottleReason } | undefined {
    const frameWait = this.#frames.charge(ip, 1);
    const byteWait = this.#bytes.charge(connectionId, bytes);
    if (frameWait === 0 && byteWait === 0) return undefined;
    return byteWait >= frameWait ? { pauseMs: byteWait, reason: 'bytes_rate' } : { pauseMs: frameWait, reason: 'frames_per_ip' };
  }
}
