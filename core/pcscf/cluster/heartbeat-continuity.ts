/**
 * How long this node's own heartbeat has held without a gap (issue #15 "Faults"): what decides
 * whether it may judge the others dead, and whether its own record may have lapsed.
 *
 * A heartbeat sent at `sentAt` that succeeded keeps the record alive until at least
 * `sentAt + deathPeriod` (the state backend set it no earlier than that send). Nothing else is
 * known for sure: a heartbeat that failed, or a reply that came a death period or more after the
 * last good send (the state backend was frozen, or this process was), means the record may have
 * lapsed meanwhile — and so may the others' records, for the same reason.
 */
export class HeartbeatContinuity {
  readonly #deathPeriodMs: number;
  /** Send time of the last heartbeat that succeeded. */
  #lastGoodSentAt: number | undefined;
  /** Reply time of the first heartbeat of the current unbroken run; undefined after a failure. */
  #unbrokenSince: number | undefined;

  constructor(deathPeriodMs: number) {
    this.#deathPeriodMs = deathPeriodMs;
  }

  /**
   * True when the record may have expired by `now`: no heartbeat succeeded yet, or the last good
   * one was sent a death period or more ago (a stall of this process or of the state backend).
   */
  mayHaveLapsed(now: number): boolean {
    return this.#lastGoodSentAt === undefined || now - this.#lastGoodSentAt >= this.#deathPeriodMs;
  }

  /** A heartbeat sent at `sentAt` succeeded at `repliedAt`. */
  succeeded(sentAt: number, repliedAt: number): void {
    const unbroken = this.#unbrokenSince !== undefined && !this.mayHaveLapsed(repliedAt);
    if (!unbroken) this.#unbrokenSince = repliedAt;
    this.#lastGoodSentAt = sentAt;
  }

  /** A heartbeat failed (state backend unreachable or too slow): the run is broken. */
  failed(): void {
    this.#unbrokenSince = undefined;
  }

  /**
   * May this node judge the other nodes dead at `now`? Only once its own heartbeats have held for
   * a full death period since its start or its last failure or gap. A stall of the state backend
   * (Redis down or frozen) longer than the death period lets EVERY node's record expire (TTLs run on
   * the backend's wall clock); the first node back would otherwise see all the others dead and
   * BYE their live calls. After one death period of its own unbroken heartbeats, every live peer
   * has had that long to heartbeat again too, so a record still missing is a node really gone.
   */
  sweepAllowed(now: number): boolean {
    return this.#unbrokenSince !== undefined && now - this.#unbrokenSince >= this.#deathPeriodMs;
  }
}
