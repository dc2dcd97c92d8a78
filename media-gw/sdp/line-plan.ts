import { EpcError } from '../../core/errors.js';
import type { MediaLinePlan, MediaPlan } from './types.js';

/** The plan entry of an m-line the ALG accepts; a missing one is a controller bug, not a client fault. */
export function linePlanFor(plan: MediaPlan, index: number): MediaLinePlan {
  const line = plan.lines[index];
  if (line === undefined) throw new EpcError('EPC_ERR_INVALID_STATE', `the media plan has no entry for accepted m-line ${index}`);
  return line;
}

/** The gateway's preferred DTLS role on the WIC leg of an m-line (R-ALG-1 default: passive). */
export function preferredSetupFor(plan: MediaPlan): (index: number) => 'active' | 'passive' {
  return (index) => plan.lines[index]?.wicSetup ?? 'passive';
}

/** R-ALG-13: `a=maxptime` toward IMS when the source gave none [D: 120 ms, what browser jitter buffers take]. */
export const DEFAULT_AUDIO_MAXPTIME = 120;
/** R-ALG-13: the packetisation interval browsers use for every relayable audio codec. */
export const AUDIO_PTIME = 20;
