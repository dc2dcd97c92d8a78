import { EpcError } from '../../errors.js';

/**
 * Timer values of RFC 3261 §17 (Table 4) and RFC 6026 §8.
 * Only T1, T2, T4 (and Timer D's floor) are configurable; everything else derives from them.
 */
export interface TimerValues {
  /** RTT estimate, default 500 ms (RFC 3261 §17.1.1.1). */
  readonly t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  readonly t2: number;
  /** Maximum time a message stays in the network, default 5 s. */
  readonly t4: number;
  /** Timer D on unreliable transports: "at least 32 seconds" (RFC 3261 §17.1.1.2). */
  readonly d: number;
}

export const DEFAULT_TIMERS: TimerValues = { t1: 500, t2: 4000, t4: 5000, d: 32000 };

export function resolveTimers(partial?: Partial<TimerValues>): TimerValues {
  const merged = { ...DEFAULT_TIMERS, ...partial };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `SIP timer ${name} must be a positive number of milliseconds, got ${String(value)}`);
    }
  }
  return merged;
}

/** Timers B, F, H (RFC 3261 Table 4) and L, M (RFC 6026 §8.4/§8.7): 64*T1. */
export function transactionTimeout(timers: TimerValues): number {
  return 64 * timers.t1;
}

/** Timer D: >= 32 s unreliable, 0 reliable (RFC 3261 §17.1.1.2). */
export function timerD(timers: TimerValues, reliable: boolean): number {
  return reliable ? 0 : timers.d;
}

/** Timers I and K: T4 unreliable, 0 reliable (RFC 3261 §17.2.1, §17.1.2.2). */
export function timerT4OrZero(timers: TimerValues, reliable: boolean): number {
  return reliable ? 0 : timers.t4;
}

/** Timer J: 64*T1 unreliable, 0 reliable (RFC 3261 §17.2.2). */
export function timerJ(timers: TimerValues, reliable: boolean): number {
  return reliable ? 0 : 64 * timers.t1;
}
