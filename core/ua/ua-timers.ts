/**
 * Timer values of the virtual UE. The W2 seam is reliable (like a WebSocket, RFC 7118 §5), so no
 * request is ever retransmitted (RFC 3261 §17.1.1.2: Timer A runs only on unreliable
 * transports), but a lost answer must still end a transaction: Timers B and F are 64*T1.
 */
export const T1_MS = 500;

/** RFC 3261 Table 4: Timer B (INVITE) / Timer F (non-INVITE) / Timer H, 64*T1 = 32 s. */
export const TRANSACTION_TIMEOUT_MS = 64 * T1_MS;

/** RFC 4028 §5: the smallest session interval we accept (Min-SE default 90 s). */
export const MIN_SESSION_EXPIRES = 90;

/**
 * R-REG-23 (TS 24.229 §5.1.1.4.1): re-register 600 s before expiry when the registration lasts
 * more than 1200 s, otherwise when half of it has passed. Also used for subscription refresh
 * (TS 24.229 §5.1.2.1 uses the same rule for the reg-event subscription).
 */
export function refreshDelaySeconds(expires: number): number {
  return expires > 1200 ? expires - 600 : expires / 2;
}
