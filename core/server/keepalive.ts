/**
 * Server-side keep-alive (R-WS-10, RFC 7118 §6): browsers cannot send WebSocket pings, so the
 * server pings connections that were silent for a whole interval and terminates those that
 * did not answer the previous ping by the next tick (RFC 6455 §5.5.2/§5.5.3).
 */
export interface KeepaliveTarget {
  ping(): void;
  /** Called once when the peer missed a pong: the caller tears the connection down. */
  onDead(): void;
}

interface Entry {
  lastSeen: number;
  awaitingPong: boolean;
}

export class KeepaliveMonitor {
  readonly #intervalMs: number;
  readonly #entries = new Map<KeepaliveTarget, Entry>();
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** 0 disables keep-alive. */
  add(target: KeepaliveTarget): void {
    if (this.#intervalMs <= 0) return;
    this.#entries.set(target, { lastSeen: Date.now(), awaitingPong: false });
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Any frame or pong from the peer proves it alive. */
  seen(target: KeepaliveTarget): void {
    const entry = this.#entries.get(target);
    if (entry === undefined) return;
    entry.lastSeen = Date.now();
    entry.awaitingPong = false;
  }

  remove(target: KeepaliveTarget): void {
    this.#entries.delete(target);
    if (this.#entries.size === 0) this.stop();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = Date.now();
    for (const [target, entry] of [...this.#entries]) {
      if (entry.awaitingPong) {
        this.#entries.delete(target);
        target.onDead();
      } else if (now - entry.lastSeen >= this.#intervalMs * 0.9) {
        // 0.9: timer jitter must not skip a connection that was silent for the whole period.
        entry.awaitingPong = true;
        target.ping();
      }
    }
    if (this.#entries.size === 0) this.stop();
  }
}
