/**
 * RFC 4028 session timers for one INVITE dialog: which side refreshes, when the refresh goes
 * out (half the interval, §10), and when the side that does not refresh gives up and sends BYE
 * (the interval minus min(32 s, interval/3), §10).
 */
import { getHeader, type SipMessage } from '../sip/index.js';
import type { Clock, TimerHandle } from '../sip/clock.js';

export interface SessionExpires {
  readonly interval: number;
  readonly refresher: 'uac' | 'uas' | undefined;
}

/** `Session-Expires: 1800;refresher=uac` (RFC 4028 §4). Undefined when absent or malformed. */
export function readSessionExpires(message: SipMessage): SessionExpires | undefined {
  const value = getHeader(message, 'Session-Expires');
  if (value === undefined) return undefined;
  const [delta, ...params] = value.split(';').map((p) => p.trim());
  const interval = Number(delta);
  if (!Number.isInteger(interval) || interval <= 0) return undefined;
  const refresher = params.map((p) => p.toLowerCase()).find((p) => p.startsWith('refresher='))?.slice('refresher='.length);
  return { interval, refresher: refresher === 'uac' || refresher === 'uas' ? refresher : undefined };
}

/** `Min-SE` of a 422 or a request (RFC 4028 §5), or undefined. */
export function readMinSe(message: SipMessage): number | undefined {
  const value = Number((getHeader(message, 'Min-SE') ?? '').split(';')[0]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

export class SessionTimer {
  readonly #clock: Clock;
  readonly #onRefresh: () => void;
  readonly #onExpire: () => void;
  #timer: TimerHandle | undefined;
  #interval = 0;
  #weRefresh = false;

  constructor(clock: Clock, handlers: { refresh: () => void; expire: () => void }) {
    this.#clock = clock;
    this.#onRefresh = handlers.refresh;
    this.#onExpire = handlers.expire;
  }

  get interval(): number {
    return this.#interval;
  }

  get weRefresh(): boolean {
    return this.#weRefresh;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * (Re)starts after a successful session refresh or the 2xx of the INVITE. `weAreUac` says
   * which role we had in *that* transaction: the refresher parameter is relative to it.
   */
  negotiated(value: SessionExpires | undefined, weAreUac: boolean): void {
    this.stop();
    if (value === undefined) return;
    this.#interval = value.interval;
    this.#weRefresh = value.refresher === undefined ? weAreUac : (value.refresher === 'uac') === weAreUac;
    const ms = value.interval * 1000;
    // RFC 4028 §10: the refresher refreshes at half the interval; the other side sends BYE
    // when min(32, interval/3) seconds remain without a refresh.
    const delay = this.#weRefresh ? ms / 2 : ms - Math.min(32_000, ms / 3);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#weRefresh) this.#onRefresh();
      else this.#onExpire();
    }, delay);
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
