import { randomBytes } from 'node:crypto';

/**
 * A globally unique ICID for P-Charging-Vector (RFC 7315 §4.6, R-REG-14, R-ORIG-5): the node id,
 * the time and random bytes, so two nodes never collide.
 */
export function generateIcid(nodeId: string): string {
  return `${nodeId}.${Date.now().toString(36)}.${randomBytes(8).toString('hex')}`;
}

/** The P-Charging-Vector value we insert: `icid-value=...[;orig-ioi=...]`. */
export function chargingVectorValue(icid: string, origIoi?: string): string {
  return origIoi ? `icid-value=${icid};orig-ioi=${origIoi}` : `icid-value=${icid}`;
}
