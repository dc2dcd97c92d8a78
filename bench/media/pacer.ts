/**
 * Paces every stream of every call from one timer (not a timer per call): each sender gets a
 * fixed phase inside the 20 ms packet interval, spread evenly, and each tick sends whatever is
 * due. Spreading the phases keeps the load smooth (no burst of every call at the same instant,
 * which would measure the generator's own queueing instead of the gateway); a late tick sends
 * what it owes, so each stream keeps exactly 50 packets per second on average.
 */
import { performance } from 'node:perf_hooks';
import { PACKET_INTERVAL_MS } from './rtp-stream.js';

export interface PacedSender {
  sendMedia(): boolean;
}

const TICK_MS = 1;

export class MediaPacer {
  readonly #senders: readonly PacedSender[];
  readonly #phases: Float64Array;
  #timer: NodeJS.Timeout | undefined;
  #start = 0;
  #cycle = 0;
  #next = 0;
  /** Sends that found their endpoint not ready (should stay 0 once calls are connected). */
  skipped = 0;

  constructor(senders: readonly PacedSender[]) {
    this.#senders = senders;
    this.#phases = new Float64Array(senders.length);
    for (let i = 0; i < senders.length; i++) this.#phases[i] = (i * PACKET_INTERVAL_MS) / senders.length;
  }

  start(): void {
    if (this.#timer !== undefined || this.#senders.length === 0) return;
    this.#start = performance.now();
    this.#cycle = 0;
    this.#next = 0;
    this.#timer = setInterval(this.#tick, TICK_MS);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick = (): void => {
    const senders = this.#senders;
    const now = performance.now();
    let due = this.#start + this.#cycle * PACKET_INTERVAL_MS + (this.#phases[this.#next] as number);
    while (due <= now) {
      if (!(senders[this.#next] as PacedSender).sendMedia()) this.skipped++;
      if (++this.#next === senders.length) {
        this.#next = 0;
        this.#cycle++;
      }
      due = this.#start + this.#cycle * PACKET_INTERVAL_MS + (this.#phases[this.#next] as number);
    }
  };
}
