/**
 * Web authentication on /metrics (TS 24.371 scenarios 2/3), fed by the P-CSCF's observer:
 *   epcscf_web_token_refusals_total{reason}        tokens refused, by the TOKEN_REFUSAL_REASONS key
 *   epcscf_web_tokens_accepted_total               tokens validated and accepted
 *   epcscf_trusted_node_deregistrations_total{cause}  REGISTER Expires 0 epcscf sent itself (R-REG-25)
 * Every series exists from the start at 0, so increase() sees the first event.
 */
import type { EventEmitter } from 'node:events';
import { Counter, type Registry } from 'prom-client';
import type { PcscfEvents } from '../pcscf/pcscf.js';
import { TOKEN_REFUSAL_CODES } from '../webauth/token-refusals.js';

const CAUSES = ['flow-ended', 'token-expired'] as const;

/** Registers the counters on `registry` and subscribes them to `observer`; the returned function unsubscribes. */
export function observeWebAuth(observer: EventEmitter<PcscfEvents>, registry: Registry): () => void {
  const registers = [registry];
  const refusals = new Counter({
    name: 'epcscf_web_token_refusals_total',
    help: `Web tokens refused (403 with the reason phrase; keys_unavailable: 503), by reason: ${TOKEN_REFUSAL_CODES.join(', ')}`,
    labelNames: ['reason'], registers,
  });
  const byReason = new Map(TOKEN_REFUSAL_CODES.map((code) => [code, refusals.labels(code)] as const));
  for (const series of byReason.values()) series.inc(0);
  const accepted = new Counter({ name: 'epcscf_web_tokens_accepted_total', help: 'Web tokens validated and accepted (REGISTER and initial requests)', registers });
  const deregistrations = new Counter({
    name: 'epcscf_trusted_node_deregistrations_total',
    help: 'De-registrations epcscf sent on Mw for trusted-node registrations (R-REG-25), by cause: flow-ended, token-expired',
    labelNames: ['cause'], registers,
  });
  for (const cause of CAUSES) deregistrations.labels(cause).inc(0);
  const onToken = (...[outcome]: PcscfEvents['webToken']): void => {
    if (outcome === 'accepted') accepted.inc();
    else byReason.get(outcome)?.inc();
  };
  const onDeregistration = (...[cause]: PcscfEvents['trustedNodeDeregistration']): void => deregistrations.labels(cause).inc();
  observer.on('webToken', onToken);
  observer.on('trustedNodeDeregistration', onDeregistration);
  return () => {
    observer.off('webToken', onToken);
    observer.off('trustedNodeDeregistration', onDeregistration);
  };
}
