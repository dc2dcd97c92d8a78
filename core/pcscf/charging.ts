import { generateCallId } from '../sip/ids.js';

/**
 * A globally unique ICID for P-Charging-Vector (RFC 7315 §4.6, R-REG-14, R-ORIG-5): the node id,
 * the time and random bytes, so two nodes never collide.
 */
export function generateIcid(nodeId: string): string {
  // The random part comes from the stack's pooled random source (one syscall per 4 KiB, not per id).
  return `${nodeId}.${Date.now().toString(36)}.${generateCallId()}`;
}

/** The P-Charging-Vector value we insert: `icid-value=...[;orig-ioi=...]`. */
export function chargingVectorValue(icid: string, origIoi?: string): string {
  return origIoi ? `icid-value=${icid};orig-ioi=${origIoi}` : `icid-value=${icid}`;
}
