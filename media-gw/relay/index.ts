/** The media-gw data plane, for the gateway that implements MediaGatewayControl (media-gw/ng). */
export { CallRelay, type CallRelayDelegate, type CallRelayOptions, type RelayStreamOptions, type StreamCodecConfig } from './call-relay.js';
export { RelayFactory, type CallAllocationSpec, type CallRelaySpec, type ImsStreamSpec, type RelayFactoryOptions } from './relay-factory.js';
export type { ImsLegHandle, RelayAllocator, RelayHandle, WebRtcLegHandle } from './relay-handle.js';
export { RelayWorkerPool, sliceOfRange, type RelayWorkerPoolOptions } from './relay-worker-pool.js';
export { WebRtcLeg, type WebRtcLegDelegate, type WebRtcLegOptions, type WebRtcRemote } from '../webrtc/webrtc-leg.js';
export { IceLiteAgent, generateIceCredentials, type IceCredentials, type TransportAddress } from '../webrtc/ice-lite-agent.js';
export { createLocalCertificate, sharedCertificate, fingerprintOf, type DtlsFingerprint, type LocalCertificate } from '../webrtc/certificate.js';
export type { DtlsRole } from '../webrtc/dtls-endpoint.js';
export { ImsLeg, type ImsLegDelegate, type ImsLegOptions } from '../rtp/ims-leg.js';
export { UdpPortAllocator, type PortRange } from '../rtp/port-allocator.js';
export { RtpStreamRewriter, type StreamRewriterOptions } from '../rtp/stream-rewriter.js';
export { translateRtcp, type RtcpTranslation } from '../rtp/rtcp-translator.js';
export type { MediaCounters } from '../rtp/media-counters.js';
