/**
 * Feeds the W2 connection, plugin-fault and refusal metrics from the W2 server's
 * observer events, so the runtime wires them with one call instead of four listeners. The observer is for
 * monitoring only (the mediasoup idea), which is exactly what this is.
 */
import type { W2Observer, W2ObserverEvents } from '../contract/host.js';
import type { EpcscfMetrics } from './metrics.js';

/** Subscribes `metrics` to `observer`; the returned function unsubscribes. */
export function observeW2Sessions(observer: W2Observer, metrics: Pick<EpcscfMetrics, 'sessionOpened' | 'sessionClosed' | 'pluginError' | 'refused'>): () => void {
  const onOpen = (...[info]: W2ObserverEvents['sessionopen']): void => metrics.sessionOpened(info.plugin);
  const onClose = (...[info]: W2ObserverEvents['sessionclose']): void => metrics.sessionClosed(info.plugin);
  const onError = (...[info]: W2ObserverEvents['pluginerror']): void => metrics.pluginError(info.plugin, info.hook);
  observer.on('sessionopen', onOpen);
  observer.on('sessionclose', onClose);
  observer.on('pluginerror', onError);
  const onRefused = (...[info]: W2ObserverEvents['refused']): void => metrics.refused(info.reason);
  observer.on('refused', onRefused);
  return () => {
    observer.off('sessionopen', onOpen);
    observer.off('sessionclose', onClose);
    observer.off('pluginerror', onError);
    observer.off('refused', onRefused);
  };
}
