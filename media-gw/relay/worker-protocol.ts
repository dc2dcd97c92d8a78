/**
 * Messages between the gateway thread and a relay worker (relay-worker.ts). One MessagePort per
 * worker keeps them in order, which is what makes RelayHandle.settled() a simple round trip.
 */
import type { MediaCounters } from '../rtp/media-counters.js';
import type { LocalCertificate } from '../webrtc/certificate.js';
import type { IceCredentials, TransportAddress } from '../webrtc/ice-lite-agent.js';
import type { WebRtcRemote } from '../webrtc/webrtc-leg.js';
import type { StreamCodecConfig } from './call-relay.js';
import type { CallAllocationSpec, RelayFactoryOptions } from './relay-factory.js';

/** workerData: the factory options of this worker's share of the port ranges. */
export interface RelayWorkerData {
  readonly factory: Omit<RelayFactoryOptions, 'certificate' | 'maxCalls'> & { readonly certificate: LocalCertificate };
}

/** What an allocated relay looks like from outside (read once; ports and SSRCs never change). */
export interface AllocatedRelay {
  readonly createdAt: number;
  readonly webrtcAddress: TransportAddress;
  readonly localIce: IceCredentials;
  readonly ims: readonly { readonly localRtp: TransportAddress; readonly localRtcp: TransportAddress; readonly rtcpMuxed: boolean }[];
  readonly ssrcTowardWebRtc: readonly number[];
}

export type RelayCommand =
  | { readonly kind: 'allocate'; readonly id: number; readonly spec: CallAllocationSpec }
  | { readonly kind: 'webrtc-remote'; readonly id: number; readonly remote: WebRtcRemote }
  | { readonly kind: 'arm-consent'; readonly id: number }
  | { readonly kind: 'arm-idle'; readonly id: number; readonly idleTimeoutMs: number }
  | { readonly kind: 'ims-remote'; readonly id: number; readonly index: number; readonly rtp?: TransportAddress; readonly rtcp?: TransportAddress }
  | { readonly kind: 'configure-stream'; readonly id: number; readonly index: number; readonly config: StreamCodecConfig }
  | { readonly kind: 'stream-mode'; readonly id: number; readonly index: number; readonly mode: { readonly wicReceives?: boolean; readonly imsReceives?: boolean } }
  | { readonly kind: 'counters'; readonly id: number; readonly request: number }
  | { readonly kind: 'send-dtmf'; readonly id: number; readonly request: number; readonly index: number; readonly digit: string; readonly durationMs: number }
  | { readonly kind: 'sync'; readonly id: number; readonly request: number }
  | { readonly kind: 'close'; readonly id: number; readonly request: number };

export type RelayReport =
  | { readonly kind: 'allocated'; readonly id: number; readonly relay: AllocatedRelay }
  | { readonly kind: 'allocate-failed'; readonly id: number; readonly code: string; readonly message: string }
  | { readonly kind: 'local-ice'; readonly id: number; readonly localIce: IceCredentials }
  | { readonly kind: 'counters'; readonly request: number; readonly counters: readonly MediaCounters[] }
  | { readonly kind: 'done'; readonly request: number; readonly ok?: boolean }
  | { readonly kind: 'dtmf'; readonly id: number; readonly index: number; readonly digit: string; readonly durationMs: number }
  | { readonly kind: 'event'; readonly id: number; readonly event: 'connected' | 'idle' | 'consent-expired' | 'failed'; readonly code?: string; readonly message?: string };
