/**
 * The per-node bound on requests from W2 toward the IMS core (issue 15 "IMS core unreachable or
 * slow ... bounded queues", "Overload control: bounded concurrency per node"). A slot is held
 * by a forwarded request from the moment it leaves until the next hop answers anything (a 100
 * Trying counts: RFC 3261 §16.2, the next hop took responsibility) or the attempt ends; what
 * piles up while the core is slow is exactly the requests it has not answered. Beyond
 * `maxOutstanding`, requests wait in one FIFO of at most `maxQueued` for at most
 * `maxQueueWaitMs`; one that finds the queue full or waits too long is refused (the forwarder
 * answers 503 with Retry-After, RFC 3261 §21.5.4) and never reaches Mw. A released slot goes
 * to the head of the queue at once. The queue is swept by one timer that runs only while
 * something waits (every entry has the same deadline, so the sweep stops at the first in time).
 */
import type { MwOverloadConfig } from '../config/config-types.js';

export interface AdmissionTicket {
  /** The request got its first response or ended (holding), or left the queue (queued). Idempotent. */
  release(): void;
  /** Still waiting for a slot. */
  readonly queued: boolean;
}

interface Entry extends AdmissionTicket {
  state: 'queued' | 'holding' | 'done';
  readonly deadline: number;
  readonly go: () => void;
  readonly refuse: () => void;
}

export class MwAdmission {
  readonly #config: MwOverloadConfig;
  readonly #now: () => number;
  /** Waiting entries in arrival order (a Set keeps insertion order; removal is O(1)). */
  readonly #queue = new Set<Entry>();
  #outstanding = 0;
  #refused = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(config: MwOverloadConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
  }

  get retryAfterSeconds(): number { return this.#config.retryAfterSeconds; }
  /** Requests holding a slot now. */
  get outstanding(): number { return this.#outstanding; }
  /** Requests waiting for one. */
  get queued(): number { return this.#queue.size; }
  /** Requests refused so far (queue full or waited too long). */
  get refused(): number { return this.#refused; }

  /**
   * A request wants to go toward Mw: `go` is called now or once a slot is free; `refuse` instead
   * when the queue is full (now) or the wait passed (later). Exactly one of them is called,
   * unless the ticket is released while queued (the request was cancelled meanwhile).
   */
  admit(go: () => void, refuse: () => void): AdmissionTicket {
    const admission = this;
    const entry: Entry = {
      state: 'queued', deadline: this.#now() + this.#config.maxQueueWaitMs, go, refuse,
      get queued() { return this.state === 'queued'; },
      release() { admission.#release(this); },
    };
    if (this.#outstanding < this.#config.maxOutstanding && this.#queue.size === 0) {
      this.#hold(entry);
    } else if (this.#queue.size >= this.#config.maxQueued) {
      entry.state = 'done';
      this.#refused++;
      refuse();
    } else {
      this.#queue.add(entry);
      this.#timer ??= setInterval(() => this.#sweep(), Math.max(10, Math.min(250, Math.floor(this.#config.maxQueueWaitMs / 4))));
      this.#timer.unref();
    }
    return entry;
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #hold(entry: Entry): void {
    entry.state = 'holding';
    this.#outstanding++;
    entry.go();
  }

  #release(entry: Entry): void {
    if (entry.state === 'done') return;
    if (entry.state === 'queued') {
      entry.state = 'done';
      this.#queue.delete(entry);
      this.#stopIfIdle();
      return;
    }
    entry.state = 'done';
    this.#outstanding--;
    // The freed slot goes to the oldest waiting request still in time.
    this.#sweep();
    const next = this.#queue.values().next();
    if (!next.done && this.#outstanding < this.#config.maxOutstanding) {
      this.#queue.delete(next.value);
      this.#stopIfIdle();
      this.#hold(next.value);
    }
  }

  #sweep(): void {
    const now = this.#now();
    for (const entry of this.#queue) {
      if (entry.deadline > now) break;
      this.#queue.delete(entry);
      entry.state = 'done';
      this.#refused++;
      entry.refuse();
    }
    this.#stopIfIdle();
  }

  #stopIfIdle(): void {
    if (this.#queue.size > 0 || this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
