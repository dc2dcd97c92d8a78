/**
 * RFC 3312 / RFC 4032 preconditions on the IMS leg. Browsers know nothing of them (R-PRE-1), so
 * they never reach the WIC; when an IMS offer carries them, the gateway answers for the WIC's
 * segment itself. It reserves no network resources of its own, so its local segment is reported
 * as met at once; the offerer's segment is echoed as the offer stated it.
 */

interface QosLine {
  readonly kind: 'curr' | 'des' | 'conf';
  readonly strength?: string;
  readonly statusType: 'e2e' | 'local' | 'remote';
  readonly direction: string;
}

/** RFC 3312 §5: `curr:qos <status-type> <dir>`, `des:qos <strength> <status-type> <dir>`. */
function parseQosLine(attribute: string): QosLine | undefined {
  const colon = attribute.indexOf(':');
  if (colon < 0) return undefined;
  const kind = attribute.slice(0, colon).trim().toLowerCase();
  if (kind !== 'curr' && kind !== 'des' && kind !== 'conf') return undefined;
  const words = attribute.slice(colon + 1).trim().split(/\s+/);
  if (words[0]?.toLowerCase() !== 'qos') return undefined;
  const rest = words.slice(1).map((word) => word.toLowerCase());
  const [strength, statusType, direction] = kind === 'des' ? rest : [undefined, ...rest];
  if (statusType !== 'e2e' && statusType !== 'local' && statusType !== 'remote') return undefined;
  if (direction === undefined) return undefined;
  return { kind, statusType, direction, ...(strength !== undefined ? { strength } : {}) };
}

export function isPreconditionAttribute(attribute: string): boolean {
  return parseQosLine(attribute) !== undefined;
}

/** RFC 3312 §5.1: local/remote swap between offerer and answerer, and so do send/recv. */
function mirrorDirection(direction: string): string {
  if (direction === 'send') return 'recv';
  if (direction === 'recv') return 'send';
  return direction;
}

/**
 * The `a=curr`/`a=des` lines (without `a=`) of our answer to an IMS offer's preconditions, or
 * none when the offer had none. Segmented model (what TS 24.229 UEs send, F-PRE-1): our local
 * segment is `sendrecv` now; the remote (offerer's) segment is what the offer said of its own;
 * desired strengths mirror the offer's. End-to-end model: we cannot vouch for the whole path, so
 * the current status is the offer's.
 */
export function answerQosPreconditions(offerAttributes: readonly string[]): string[] {
  const lines = offerAttributes.map(parseQosLine).filter((line): line is QosLine => line !== undefined);
  if (!lines.some((line) => line.kind === 'des')) return [];
  const answer: string[] = [];
  const e2eCurrent = lines.find((line) => line.kind === 'curr' && line.statusType === 'e2e');
  const e2eDesired = lines.find((line) => line.kind === 'des' && line.statusType === 'e2e');
  if (e2eDesired !== undefined) {
    answer.push(`curr:qos e2e ${e2eCurrent?.direction ?? 'none'}`);
    answer.push(`des:qos ${e2eDesired.strength ?? 'optional'} e2e ${e2eDesired.direction}`);
    return answer;
  }
  const offerLocalCurrent = lines.find((line) => line.kind === 'curr' && line.statusType === 'local');
  const offerLocalDesired = lines.find((line) => line.kind === 'des' && line.statusType === 'local');
  const offerRemoteDesired = lines.find((line) => line.kind === 'des' && line.statusType === 'remote');
  answer.push('curr:qos local sendrecv');
  answer.push(`curr:qos remote ${mirrorDirection(offerLocalCurrent?.direction ?? 'none')}`);
  answer.push(`des:qos ${offerRemoteDesired?.strength ?? 'optional'} local ${mirrorDirection(offerRemoteDesired?.direction ?? 'sendrecv')}`);
  answer.push(`des:qos ${offerLocalDesired?.strength ?? 'optional'} remote ${mirrorDirection(offerLocalDesired?.direction ?? 'sendrecv')}`);
  return answer;
}
