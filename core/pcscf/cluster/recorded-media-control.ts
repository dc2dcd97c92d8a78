/**
 * A MediaControl that keeps the cluster's MediaLegDirectory current (issue #15 "Faults"): each ng
 * call the IMS-ALG opens on the gateway is recorded with this node as owner, and dropped when the
 * ALG deletes it. When this node dies, a survivor finds its legs there and frees them on a gateway
 * it shares (ng); a leg on a dead node's in-process gateway died with it. Used only in a cluster:
 * a single node pays nothing (one directory write per call, never per message).
 */
import type { Logger } from 'pino';
import type { NgAnswerRequest, NgDeleteRequest, NgOfferRequest, NgQueryRequest, NgQueryResult, NgSdpResult } from '../../../media-gw/ng/index.js';
import type { MediaLegDirectory } from '../../state/state-backend.js';
import type { MediaControl } from '../alg/media-control.js';

export function recordedMediaControl(
  inner: MediaControl, legs: MediaLegDirectory, owner: { readonly nodeId: string; readonly gateway: string; readonly log: Logger; readonly now?: () => number },
): MediaControl {
  const recorded = new Set<string>();
  const now = owner.now ?? Date.now;
  const warn = (ngCallId: string) => (error: unknown): void => owner.log.warn({ err: error, ngCallId }, 'media-leg directory write failed');
  const control: MediaControl = {
    ping: () => inner.ping(),
    close: () => inner.close(),
    async offer(request: NgOfferRequest): Promise<NgSdpResult> {
      const result = await inner.offer(request);
      if (!recorded.has(request.callId)) {
        recorded.add(request.callId);
        // A pool of gateways (media-pool.ts) names the one that took the call.
        const gateway = inner.gatewayOf?.(request.callId) ?? owner.gateway;
        await legs.put({ ngCallId: request.callId, nodeId: owner.nodeId, gateway, createdAt: now() }).catch(warn(request.callId));
      }
      return result;
    },
    answer: (request: NgAnswerRequest): Promise<NgSdpResult> => inner.answer(request),
    async delete(request: NgDeleteRequest): Promise<void> {
      await inner.delete(request);
      if (recorded.delete(request.callId)) await legs.remove(request.callId).catch(warn(request.callId));
    },
    query: (request: NgQueryRequest): Promise<NgQueryResult> => inner.query(request),
  };
  if (inner.gatewayOf !== undefined) control.gatewayOf = inner.gatewayOf.bind(inner);
  if (inner.deleteOn !== undefined) control.deleteOn = inner.deleteOn.bind(inner);
  if (inner.gateways !== undefined) control.gateways = inner.gateways.bind(inner);
  if (inner.sendDtmf !== undefined) {
    const sendDtmf = inner.sendDtmf.bind(inner);
    control.sendDtmf = (callId, digit, durationMs) => sendDtmf(callId, digit, durationMs);
  }
  return control;
}
