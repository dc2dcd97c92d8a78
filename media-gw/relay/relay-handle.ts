/**
 * What the gateway (media-gw/gateway) needs of a call's relay, whether the relay runs in this
 * thread (CallRelay, RelayFactory) or in a relay worker (WorkerRelay, RelayWorkerPool). Commands
 * take effect in order; `settled()` resolves once every earlier command has been applied where
 * the relay runs, so state read afterwards (new ICE credentials after a restart) is current.
 */
import type { LocalCertificate } from '../webrtc/certificate.js';
import type { DtlsRole } from '../webrtc/dtls-endpoint.js';
import type { IceCredentials, TransportAddress } from '../webrtc/ice-lite-agent.js';
import type { WebRtcRemote } from '../webrtc/webrtc-leg.js';
import type { MediaCounters } from '../rtp/media-counters.js';
import type { CallRelayDelegate, StreamCodecConfig } from './call-relay.js';
import type { CallAllocationSpec } from './relay-factory.js';

export interface WebRtcLegHandle {
  /** Undefined until the WIC's SDP gave the role. */
  readonly dtlsRole: DtlsRole | undefined;
  readonly ice: { readonly localCredentials: IceCredentials };
  /** The host candidate to put in the SDP toward the WIC (R-ICE-1). */
  readonly localAddress: TransportAddress;
  setRemote(remote: WebRtcRemote): void;
  armConsent(): void;
}

export interface ImsLegHandle {
  readonly localRtp: TransportAddress;
  readonly localRtcp: TransportAddress;
  readonly rtcpMuxed: boolean;
  setRemote(rtp: TransportAddress | undefined, rtcp?: TransportAddress): void;
}

export interface RelayHandle {
  readonly createdAt: number;
  delegate: CallRelayDelegate | undefined;
  readonly webrtc: WebRtcLegHandle;
  readonly imsLegs: readonly ImsLegHandle[];
  readonly closed: boolean;
  armIdleTimer(idleTimeoutMs: number): void;
  configureStream(index: number, config: StreamCodecConfig): void;
  setStreamMode(index: number, mode: { readonly wicReceives?: boolean; readonly imsReceives?: boolean }): void;
  ssrcTowardWebRtc(index?: number): number | undefined;
  /** Plays a DTMF digit toward the browser as RFC 4733 events; false when it accepts none. */
  sendDtmf(index: number, digit: string, durationMs: number): Promise<boolean>;
  /** Counters per leg: the WebRTC leg first, then each IMS leg in m-line order. */
  readCounters(): Promise<readonly MediaCounters[]>;
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Where calls get their relays: RelayFactory (this thread) or RelayWorkerPool (worker threads). */
export interface RelayAllocator {
  readonly size: number;
  certificate(): Promise<LocalCertificate>;
  allocate(spec: CallAllocationSpec): Promise<RelayHandle>;
  closeAll(): Promise<void>;
}
