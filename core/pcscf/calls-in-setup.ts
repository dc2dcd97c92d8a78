/**
 * The initial INVITE transactions of call attempts still in setup (no final response yet), by the
 * ng call-id of their media leg (alg/media-legs.ts `mediaCallId`): what a media failure during
 * setup has to answer and cancel (setup-release.ts). Kept only with a media gateway (SessionMedia
 * records an attempt as it opens its leg). An attempt needs no removal: a transaction past
 * Proceeding has its final and is skipped, and such entries are swept as the table grows.
 */
import { TransactionState, type ServerTransaction } from '../sip/transaction/index.js';

const FIRST_SWEEP_AT = 256;

export class CallsInSetup {
  readonly #byLeg = new Map<string, ServerTransaction[]>();
  #sweepAt = FIRST_SWEEP_AT;

  /** Legs with an attempt recorded (swept lazily). */
  get size(): number {
    return this.#byLeg.size;
  }

  /** An initial INVITE (`tx`, from either side) opened a call attempt on leg `ngCallId`. */
  opened(ngCallId: string, tx: ServerTransaction): void {
    const attempts = this.#byLeg.get(ngCallId);
    if (attempts === undefined) this.#byLeg.set(ngCallId, [tx]);
    else attempts.push(tx);
    if (this.#byLeg.size > this.#sweepAt) this.#sweep();
  }

  /** The leg's INVITE transactions still without a final response; the leg is forgotten. */
  take(ngCallId: string): ServerTransaction[] {
    const attempts = this.#byLeg.get(ngCallId);
    if (attempts === undefined) return [];
    this.#byLeg.delete(ngCallId);
    return attempts.filter(inSetup);
  }

  #sweep(): void {
    for (const [ngCallId, attempts] of this.#byLeg) {
      if (!attempts.some(inSetup)) this.#byLeg.delete(ngCallId);
    }
    this.#sweepAt = Math.max(FIRST_SWEEP_AT, 2 * this.#byLeg.size);
  }
}

/** RFC 3261 §17.2.1: an INVITE server transaction can still send its final response only in Proceeding. */
function inSetup(tx: ServerTransaction): boolean {
  return tx.state === TransactionState.Proceeding;
}
