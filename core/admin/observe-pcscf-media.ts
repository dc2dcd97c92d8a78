/**
 * Feeds the media-ownership metric from the P-CSCF's observer (monitoring only): each media leg
 * the audit released because nothing owned it (issue #11 guard).
 */
import type { EventEmitter } from 'node:events';
import type { PcscfEvents } from '../pcscf/pcscf.js';
import type { EpcscfMetrics } from './metrics.js';

/** Subscribes `metrics` to the P-CSCF `observer`; the returned function unsubscribes. */
export function observePcscfMedia(observer: EventEmitter<PcscfEvents>, metrics: Pick<EpcscfMetrics, 'mediaLegOrphaned'>): () => void {
  const onOrphan = (): void => metrics.mediaLegOrphaned();
  observer.on('mediaLegOrphaned', onOrphan);
  return () => {
    observer.off('mediaLegOrphaned', onOrphan);
  };
}
