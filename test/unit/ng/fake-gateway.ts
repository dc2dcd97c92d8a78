/**
 * A MediaGatewayControl that records what it was asked and answers from a script: enough to
 * prove what crosses the ng seam without a media plane.
 */
import { EpcError } from '../../../core/errors.js';
import type {
  MediaGatewayControl, NgAnswerRequest, NgDeleteRequest, NgOfferRequest, NgQueryRequest, NgQueryResult, NgSdpResult,
} from '../../../media-gw/ng/control.js';

export type RecordedCall =
  | { readonly command: 'offer'; readonly request: NgOfferRequest }
  | { readonly command: 'answer'; readonly request: NgAnswerRequest }
  | { readonly command: 'delete'; readonly request: NgDeleteRequest }
  | { readonly command: 'query'; readonly request: NgQueryRequest };

export class FakeGateway implements MediaGatewayControl {
  readonly calls: RecordedCall[] = [];
  /** Milliseconds each command takes (to exercise retransmissions while in progress). */
  delayMs = 0;
  /** When set, every command fails with this. */
  failure: Error | undefined;
  queryResult: NgQueryResult = {
    created: 1_700_000_000_123,
    streams: [
      { tag: 'wic-tag', packetsIn: 10, packetsOut: 7, bytesIn: 1720, bytesOut: 1204, lastPacketAt: 1_700_000_005_000 },
      { tag: 'ims-tag', packetsIn: 7, packetsOut: 10, bytesIn: 1204, bytesOut: 1720 },
    ],
  };

  async #run<T>(call: RecordedCall, result: () => T): Promise<T> {
    this.calls.push(call);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failure !== undefined) throw this.failure;
    return result();
  }

  offer(request: NgOfferRequest): Promise<NgSdpResult> {
    return this.#run({ command: 'offer', request }, () => ({ sdp: `offer-reply ${request.callId} ${this.calls.length}` }));
  }

  answer(request: NgAnswerRequest): Promise<NgSdpResult> {
    return this.#run({ command: 'answer', request }, () => ({ sdp: `answer-reply ${request.callId}` }));
  }

  delete(request: NgDeleteRequest): Promise<void> {
    return this.#run({ command: 'delete', request }, () => undefined);
  }

  query(request: NgQueryRequest): Promise<NgQueryResult> {
    return this.#run({ command: 'query', request }, () => {
      if (request.callId === 'unknown') throw new EpcError('EPC_ERR_MEDIA', 'Unknown call-id');
      return this.queryResult;
    });
  }
}
