/**
 * The IMS-ALG's table of media legs: what it owns in the gateway, by ng call-id. A leg is owned
 * from the first message of its call attempt (the initial INVITE, with or without SDP) until
 * the attempt fails, the call ends (BYE, media failure, operator), its W2 flow dies, or the
 * audit finds nothing owning it. Each entry also keeps what a failed re-offer rolls back to:
 * the last offer/answer pair the gateway completed (RFC 3264 §8: a rejected re-offer leaves the
 * previous session description in force).
 */
import type { NgAnswerRequest, NgOfferRequest } from '../../../media-gw/ng/index.js';

/** One WIC's view of one call: the unit of media state in the gateway. */
export interface MediaLeg {
  readonly callId: string;
  /** The W2 flow of the WIC (a call between two WICs of this P-CSCF has two legs). */
  readonly flowKey: string;
  readonly direction: 'originating' | 'terminating';
}

/**
 * The gateway's ng call-id for a leg. The SIP Call-ID alone is not enough: a call between two
 * WICs of this P-CSCF (or a fork to two of one user's WICs) crosses it twice with one Call-ID.
 */
export function mediaCallId(leg: MediaLeg): string {
  return `${leg.callId}~${leg.direction === 'originating' ? 'o' : 't'}~${leg.flowKey}`;
}

/** A request's transaction as offer/answer tracking names it: its sender's tag, CSeq and method. */
export function transactionKey(fromTag: string, seq: number, method: string): string {
  return `${fromTag} ${seq} ${method}`;
}

export interface LegEntry {
  readonly leg: MediaLeg;
  readonly ngCallId: string;
  /** When the ALG last acted on the leg (the audit's grace period runs from here). */
  touchedAt: number;
  /** Initial INVITE transactions of this leg waiting for their final response (a duplicate INVITE makes two). */
  attempts: number;
  /** A 2xx to an initial INVITE went through (or the leg was first seen inside a dialog). */
  established: boolean;
  /** The gateway was asked for something: it may hold state, so release sends `delete`. */
  inGateway: boolean;
  /** The latest offer the gateway took. */
  offered: NgOfferRequest | undefined;
  /**
   * The transaction (`transactionKey`) whose offer the gateway took, or failed to take, and no
   * answer has completed yet: only that transaction's failure rolls back.
   */
  outstandingOffer: string | undefined;
  /** The last completed offer/answer: the state a failed re-offer goes back to. */
  agreed: { readonly offer: NgOfferRequest; readonly answer: NgAnswerRequest } | undefined;
}

export class MediaLegTable {
  readonly #entries = new Map<string, LegEntry>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(leg: MediaLeg): LegEntry | undefined {
    return this.#entries.get(mediaCallId(leg));
  }

  byNgCallId(ngCallId: string): LegEntry | undefined {
    return this.#entries.get(ngCallId);
  }

  /** The leg's entry, created on first use; touched either way. */
  own(leg: MediaLeg, established: boolean): LegEntry {
    const ngCallId = mediaCallId(leg);
    let entry = this.#entries.get(ngCallId);
    if (entry === undefined) {
      entry = { leg, ngCallId, touchedAt: 0, attempts: 0, established, inGateway: false, offered: undefined, outstandingOffer: undefined, agreed: undefined };
      this.#entries.set(ngCallId, entry);
    }
    entry.touchedAt = this.#now();
    return entry;
  }

  /** Forgets the leg; returns its entry the first time only (release is idempotent). */
  take(leg: MediaLeg): LegEntry | undefined {
    const ngCallId = mediaCallId(leg);
    const entry = this.#entries.get(ngCallId);
    if (entry !== undefined) this.#entries.delete(ngCallId);
    return entry;
  }

  /** A snapshot (the audit and a flow's release iterate while entries go away). */
  entries(): LegEntry[] {
    return [...this.#entries.values()];
  }
}
