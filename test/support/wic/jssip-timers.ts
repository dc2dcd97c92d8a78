/**
 * JsSIP runs the RFC 3261 / RFC 6026 transaction timers with unreliable-transport values even
 * over WebSocket (RFC 7118 §5 says reliable: Timer D/I/K would be 0), so a stopped UA can keep
 * a test process alive for 32 s (Timer D, H, L, M). This clears what a stopped UA still has
 * armed. It touches JsSIP internals on purpose: it is test cleanup, not behaviour under test.
 */
import { createRequire } from 'node:module';

type Timer = ReturnType<typeof setTimeout>;
interface JsSipTransaction { [timer: string]: unknown }
interface JsSipUaInternals {
  _transactions?: Record<string, Record<string, JsSipTransaction>>;
  _closeTimer?: Timer | null;
}

const TIMER_FIELDS = ['A', 'B', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M'] as const;

let patched = false;

/**
 * JsSIP 3.13 arms Timer I when the ACK for a non-2xx arrives but never clears Timer H
 * (RFC 3261 §17.2.1: the ACK moves the transaction to Confirmed, Timer H no longer applies),
 * and the transaction is gone from the UA when H would fire: clear H as Timer I starts.
 */
export function patchJsSipTimerH(): void {
  if (patched) return;
  patched = true;
  const require = createRequire(import.meta.url);
  const transactions = require('jssip/lib/Transactions.js') as { InviteServerTransaction?: { prototype: Record<string, unknown> } };
  const proto = transactions.InviteServerTransaction?.prototype;
  const timerI = proto?.['timer_I'];
  if (proto === undefined || typeof timerI !== 'function') return;
  proto['timer_I'] = function (this: JsSipTransaction) {
    clearTimeout(this['H'] as Timer | undefined);
    return (timerI as (this: JsSipTransaction) => unknown).call(this);
  };
}

/** Clears every transaction timer a (stopped) UA still holds. */
export function clearJsSipTransactionTimers(ua: unknown): void {
  const internals = ua as JsSipUaInternals;
  // UA.stop() waits up to 2 s for open transactions before closing the transport.
  clearTimeout(internals._closeTimer ?? undefined);
  const tables = internals._transactions ?? {};
  for (const table of Object.values(tables)) {
    for (const transaction of Object.values(table)) {
      for (const field of TIMER_FIELDS) clearTimeout(transaction[field] as Timer | undefined);
      clearInterval(transaction['resendProvisionalTimer'] as Timer | undefined);
    }
  }
}
